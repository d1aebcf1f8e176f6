"""Every command and code block in the README runs, as written, and shows real output.

Console blocks: each ``$ command`` is run in a fresh folder laid out like a checkout
(see sandbox.py) and must exit 0 (or the ``# exit N`` it states); every output line the
README shows under it must appear in what the command printed (run ids, times and temp
paths masked). Python blocks run with this interpreter; YAML blocks are loaded with the
grader's own strict loaders (rubric examples are run too). Two things are not run here:
the ``pip install`` of the set-up commands (this test runs inside that install) and the
test command itself, which ``.ci/run`` runs verbatim (checked below). Judge commands talk
to a fake server on 127.0.0.1 standing in for the providers.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from grader.review.checklist import load_checklist, load_signoffs
from grader.rubric import load_rubric_path
from grader.grading.examples import run_examples
from grader.schemas.doc import rubric_reference
from tests.docs.readme_blocks import Block, blocks, normalise
from tests.docs.sandbox import ROOT, SETUP_PREFIX, environment, judge_handler, make_sandbox, prepare, run
from grader.testing.fake_batches import FakeBatches
from grader.testing.fake_server import FakeServer

README = ROOT / "README.md"
TEXT_ONLY = {"", "text", "json"}


def _yaml_block(b: Block, work: Path, n: int) -> list[str]:
    from grader.yamlsafe import load_yaml

    path = work / f"readme-block-{n}.yaml"
    path.write_text(b.body, encoding="utf-8")
    doc = load_yaml(b.body)
    if "principles" in doc:
        result = run_examples(load_rubric_path(path))
        bad = [r for r in result.results if r.status not in ("agree", "not_run")]
        return [f"README line {b.line}: rubric example {r} does not agree" for r in bad]
    if "gates" in doc:
        load_checklist(path)
        shipped = ROOT / "rubrics" / "checklists" / f"{doc['id']}.yaml"
        if shipped.exists() and shipped.read_text(encoding="utf-8") != b.body:
            return [f"README line {b.line}: checklist {doc['id']} differs from {shipped}, which commands run"]
        return []
    if "signoffs" in doc:
        load_signoffs(path)
        return []
    return [f"README line {b.line}: a YAML block that is neither a rubric, a checklist nor sign-offs"]


def needs_shared(b: Block) -> bool:
    """A block that reads ../shared/data (the full real data a fresh clone does not have)."""
    return "../shared/" in b.body


def _run_blocks(tmp_path: Path, chosen: list[tuple[int, Block]]) -> tuple[int, list[str]]:
    work = make_sandbox(tmp_path)
    failures: list[str] = []
    ran = 0
    fake = FakeBatches(judge_handler)  # interactive calls, and the providers' batch endpoints for --batch
    with FakeServer(fake) as server:
        fake.url = server.url
        env = environment(work, server)
        for n, b in chosen:
            if b.lang == "console":
                for cmd in b.commands:
                    text = prepare(cmd, server)
                    if text is None:
                        continue
                    r = run(text, work, env)
                    ran += 1
                    shown = normalise(r.stdout + "\n" + r.stderr)
                    if r.returncode != cmd.exit_code:
                        failures.append(f"README line {cmd.line}: `{cmd.text}` exited {r.returncode}, "
                                        f"expected {cmd.exit_code}:\n{r.stderr[-2000:]}")
                        continue
                    for line in cmd.expected:
                        if normalise(line) not in shown:
                            failures.append(f"README line {cmd.line}: `{cmd.text}` did not print: {line!r}")
            elif b.lang == "python":
                script = work / f"readme-block-{n}.py"
                script.write_text(b.body, encoding="utf-8")
                r = subprocess.run([sys.executable, str(script)], cwd=work, env=env, capture_output=True,
                                   text=True, timeout=600)
                ran += 1
                if r.returncode != 0:
                    failures.append(f"README line {b.line}: python block failed:\n{r.stderr[-3000:]}")
            elif b.lang == "yaml":
                ran += 1
                failures += _yaml_block(b, work, n)
            elif b.lang not in TEXT_ONLY:
                failures.append(f"README line {b.line}: a ```{b.lang} block this test does not know how to run")
    return ran, failures


def test_every_readme_block_runs(tmp_path: Path) -> None:
    """Every block except those reading ../shared/data (next test): runs on any clone."""
    chosen = [(n, b) for n, b in enumerate(blocks(README)) if not needs_shared(b)]
    ran, failures = _run_blocks(tmp_path, chosen)
    assert not failures, "\n\n".join(failures)
    assert ran >= 20


def test_readme_blocks_on_the_shared_data_run(tmp_path: Path, shared_data: Path) -> None:
    """The blocks that read ../shared/data: skipped without it, required in CI."""
    chosen = [(n, b) for n, b in enumerate(blocks(README)) if needs_shared(b)]
    ran, failures = _run_blocks(tmp_path, chosen)
    assert not failures, "\n\n".join(failures)
    assert ran >= 4


def test_readme_opens_with_the_two_setup_commands_and_ci_runs_the_second() -> None:
    first = next(b for b in blocks(README) if b.lang == "console")
    assert [bool(SETUP_PREFIX.match(c.text)) for c in first.commands] == [True, True]
    run_cmd, test_cmd = (c.text for c in first.commands)
    assert run_cmd.endswith(".venv/bin/grader grade transcripts/")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "\n" + test_cmd + "\n" in ci
    # ... with the real-data tests required, not skipped
    assert ci.index("\nexport GRADER_REQUIRE_SHARED=1\n") < ci.index("\n" + test_cmd + "\n")


def test_rubric_reference_in_readme_is_generated_from_the_schema() -> None:
    text = README.read_text(encoding="utf-8")
    start = text.index("<!-- rubric-reference:start -->\n") + len("<!-- rubric-reference:start -->\n")
    end = text.index("<!-- rubric-reference:end -->")
    assert text[start:end] == rubric_reference(), "regenerate with: python -m grader.schemas.doc --write README.md"


@pytest.mark.parametrize("verb", ["grade", "report", "compare", "checklist", "calibrate", "audit", "rubric", "transcripts",
                                  "merge"])
def test_every_command_help_has_an_example(verb: str) -> None:
    from click.testing import CliRunner

    from grader.cli import cli

    out = CliRunner().invoke(cli, [verb, "--help"]).output
    assert "grader " + verb in out and "xample" in out, out
