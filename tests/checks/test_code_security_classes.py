"""code_security: one vulnerability class at a time, violating and compliant twins,
with the exact quoted lines and detector ids."""
from __future__ import annotations

import pytest

from tests.checks.security_helpers import found, run

# -- world-writable permissions ---------------------------------------------------------

def test_chmod_world_writable_literal_and_constant():
    r = run('import os\nMODE = 0o666\n\ndef save(path):\n    os.chmod(path, 0o777)\n'
            '    os.chmod(path + ".bak", MODE)\n')
    assert r.fired
    assert found(r) == [("os.chmod(path, 0o777)", "chmod-world-writable"),
                        ('os.chmod(path + ".bak", MODE)', "chmod-world-writable"),
                        ("MODE = 0o666", "chmod-world-writable")]
    assert r.hits[0].detail == "chmod-world-writable: os.chmod with world-writable mode 0o777"


@pytest.mark.parametrize("code, quote", [
    ("import os\nfd = os.open(p, os.O_CREAT | os.O_WRONLY, 0o777)", "fd = os.open(p, os.O_CREAT | os.O_WRONLY, 0o777)"),
    ("import os, stat\nos.chmod(p, stat.S_IRWXU | stat.S_IWOTH)", "os.chmod(p, stat.S_IRWXU | stat.S_IWOTH)"),
    ("import os\nos.makedirs(d, mode=0o777)", "os.makedirs(d, mode=0o777)"),
    ("from pathlib import Path\nPath(p).chmod(0o666)", "Path(p).chmod(0o666)"),
    ("import os\nos.umask(0)", "os.umask(0)"),
])
def test_chmod_variants(code, quote):
    assert found(run(code)) == [(quote, "chmod-world-writable")]


@pytest.mark.parametrize("code", [
    "import os\nos.chmod(p, 0o640)",
    "import os\nos.chmod(p, 0o755)",
    "import os\nos.makedirs(d, mode=0o700, exist_ok=True)",
    "import os\nos.umask(0o022)",
])
def test_chmod_compliant(code):
    r = run(code)
    assert r.applicable and not r.hits


# -- string-built SQL -------------------------------------------------------------------

def test_sql_built_with_percent_into_execute():
    r = run("def find(cur, name):\n    query = \"SELECT * FROM users WHERE name = '%s'\" % name\n"
            "    cur.execute(query)\n")
    assert found(r) == [("query = \"SELECT * FROM users WHERE name = '%s'\" % name", "B608"),
                        ("cur.execute(query)", "sql-string-built"),
                        ("query = \"SELECT * FROM users WHERE name = '%s'\" % name", "sql-string-built")]


def test_sql_fstring_directly_in_execute():
    r = run("def find(cur, q):\n    cur.execute(f\"DELETE FROM items WHERE name = '{q}'\")\n",
            params={"skip": ["B608"]})
    assert found(r) == [("cur.execute(f\"DELETE FROM items WHERE name = '{q}'\")", "sql-string-built")]


@pytest.mark.parametrize("code", [
    'def find(cur, name):\n    cur.execute("SELECT * FROM users WHERE name = ?", (name,))',
    'def find(cur, name):\n    query = "SELECT * FROM users WHERE name = %s"\n    cur.execute(query, (name,))',
    'def find(cur, conds, vals):\n    q = "SELECT * FROM t WHERE "\n    q += " AND ".join(conds)\n    cur.execute(q, vals)',
])
def test_sql_parameterised_is_compliant(code):
    assert run(code).hits == ()


# -- archive extraction -----------------------------------------------------------------

def test_tar_extractall_unfiltered():
    r = run('import tarfile\n\ndef unpack(path):\n    with tarfile.open(path) as tar:\n        tar.extractall("/srv/data")\n')
    assert found(r) == [('tar.extractall("/srv/data")', "archive-unfiltered")]
    assert r.hits[0].detail == ("archive-unfiltered: tarfile extractall without filter= or member validation "
                                "(path traversal)")


def test_tar_extractall_with_unfiltered_members():
    r = run("import tarfile\ntar = tarfile.open(p)\ntar.extractall(members=tar.getmembers())\n")
    assert found(r) == [("tar.extractall(members=tar.getmembers())", "archive-unfiltered")]


@pytest.mark.parametrize("code", [
    'import tarfile\nwith tarfile.open(p) as tar:\n    tar.extractall("/srv/data", filter="data")',
    'import tarfile\n\ndef unpack(p):\n    with tarfile.open(p) as tar:\n        for m in tar.getmembers():\n'
    '            if m.name.startswith("/") or ".." in m.name:\n                raise ValueError(m.name)\n'
    '        tar.extractall("/srv/data")',
    'import tarfile\ntar = tarfile.open(p)\ntar.extractall(members=[m for m in tar if m.isfile()])',
    'import zipfile\nzipfile.ZipFile(p).extractall("/srv/data")',
])
def test_tar_compliant(code):
    assert run(code).hits == ()


def test_zip_extractall_is_opt_in():
    code = 'import zipfile\nzipfile.ZipFile(p).extractall("/srv/data")'
    assert found(run(code, params={"detectors": ["zip-extractall"]})) == [
        ('zipfile.ZipFile(p).extractall("/srv/data")', "zip-extractall")]


# -- template escaping ------------------------------------------------------------------

def test_jinja_autoescape_off():
    r = run('from jinja2 import Environment, Template\n\ndef render(name):\n'
            '    t = Template("<p>{{ name }}</p>", autoescape=False)\n'
            '    u = Template("<p>{{ name }}</p>")\n'
            '    env = Environment(autoescape=False)\n    env.autoescape = False\n    return t.render(name=name)\n')
    assert found(r) == [('t = Template("<p>{{ name }}</p>", autoescape=False)', "template-autoescape-off"),
                        ('u = Template("<p>{{ name }}</p>")', "template-autoescape-off"),
                        ("env = Environment(autoescape=False)", "B701"),
                        ("env.autoescape = False", "template-autoescape-off")]
    assert r.hits[1].detail == "template-autoescape-off: jinja2 Template without autoescape (off by default)"


def test_safe_filter_in_template_string():
    r = run('from flask import render_template_string\nPAGE = "<p>{{ bio|safe }}</p>"\n')
    assert found(r) == [('PAGE = "<p>{{ bio|safe }}</p>"', "template-autoescape-off")]


def test_jinja_autoescape_on_is_compliant():
    code = ('from jinja2 import Environment, Template, select_autoescape\n'
            't = Template("<p>{{ name }}</p>", autoescape=True)\n'
            'env = Environment(autoescape=select_autoescape())\n'
            'from flask import render_template\n\ndef page(name):\n    return render_template("p.html", name=name)\n')
    assert run(code).hits == ()


# -- reflected XSS and template injection -----------------------------------------------

XSS = '''from flask import Flask, request
app = Flask(__name__)

@app.route("/hello")
def hello():
    name = request.args.get("name", "")
    html = f"""
    <h1>Hello {name}</h1>
    """
    return html
'''


def test_reflected_xss_through_a_variable():
    r = run(XSS)
    assert found(r) == [("return html", "xss-reflected"), ("<h1>Hello {name}</h1>", "xss-reflected")]
    assert r.hits[0].detail == ("xss-reflected: reflected XSS: request.args flows into the returned HTML "
                                "(value built at: <h1>Hello {name}</h1>)")


@pytest.mark.parametrize("body, quote", [
    ('    c = request.form["c"]\n    return "<p>{}</p>".format(c)', 'return "<p>{}</p>".format(c)'),
    ('    resp = make_response("<b>%s</b>" % request.values["q"])\n    return resp',
     'resp = make_response("<b>%s</b>" % request.values["q"])'),
    ('    out = "<ul>"\n    for item in request.args.getlist("i"):\n        out += "<li>" + item + "</li>"\n    return out',
     "return out"),
    ('    return "Thanks, {}!".format(request.form["name"])', 'return "Thanks, {}!".format(request.form["name"])'),
    ('    msg = flask.request.args.get("m")\n    return Response(msg)', "return Response(msg)"),
])
def test_reflected_xss_variants(body, quote):
    code = f"import flask\nfrom flask import Flask, request, make_response, Response\napp = Flask(__name__)\n\n" \
           f"@app.route('/x')\ndef x():\n{body}\n"
    r = run(code)
    assert r.fired
    assert r.hits[0].quote == quote
    assert {d for _, d in found(r)} == {"xss-reflected"}


def test_route_parameter_is_request_data():
    code = "@app.route('/u/<name>')\ndef user(name):\n    return f'<h2>{name}</h2>'\n"
    assert found(run(code)) == [("return f'<h2>{name}</h2>'", "xss-reflected")]
    typed = "@app.route('/u/<int:uid>')\ndef user(uid):\n    return f'<h2>{uid}</h2>'\n"
    assert run(typed).hits == ()


@pytest.mark.parametrize("code", [
    'from markupsafe import escape\n@app.route("/h")\ndef h():\n    name = request.args.get("name", "")\n'
    '    return f"<h1>Hello {escape(name)}</h1>"',
    '@app.route("/h")\ndef h():\n    name = request.args.get("name", "")\n    return render_template("h.html", name=name)',
    '@app.route("/h")\ndef h():\n    name = request.args.get("name", "")\n    return jsonify({"name": name})',
    '@app.route("/h")\ndef h():\n    n = int(request.args["n"])\n    return f"<p>{n}</p>"',
    'import html\n@app.route("/h")\ndef h():\n    q = html.escape(request.args["q"])\n    return "<p>" + q + "</p>"',
])
def test_xss_compliant(code):
    assert run(code).hits == ()


def test_template_injection():
    r = run('from flask import Flask, request, render_template_string\napp = Flask(__name__)\n\n'
            '@app.route("/greet")\ndef greet():\n    msg = f"Thanks {request.form[\'name\']}!"\n'
            '    return render_template_string(msg)\n')
    assert found(r) == [("return render_template_string(msg)", "template-injection"),
                        ("msg = f\"Thanks {request.form['name']}!\"", "template-injection")]


def test_template_with_request_data_as_context_is_compliant():
    code = ('from flask import request, render_template_string\n@app.route("/g")\ndef g():\n'
            '    return render_template_string("<p>Thanks {{ name }}!</p>", name=request.form["name"])\n')
    assert run(code).hits == ()


# -- unsafe deserialisation --------------------------------------------------------------

def test_unsafe_deserialisation():
    r = run("import yaml, pickle, marshal\n\ndef load(data):\n    a = yaml.load(data)\n"
            "    b = yaml.unsafe_load(data)\n    c = pickle.loads(data)\n    d = marshal.loads(data)\n"
            "    e = yaml.load(data, Loader=yaml.FullLoader)\n")
    assert found(r) == [("a = yaml.load(data)", "B506"), ("b = yaml.unsafe_load(data)", "deserialisation-unsafe"),
                        ("c = pickle.loads(data)", "B301"), ("d = marshal.loads(data)", "B302"),
                        ("e = yaml.load(data, Loader=yaml.FullLoader)", "B506"),
                        ("e = yaml.load(data, Loader=yaml.FullLoader)", "deserialisation-unsafe")]


def test_cpickle_alias():
    assert found(run("import cPickle as pickle\nobj = pickle.loads(blob)")) == [
        ("obj = pickle.loads(blob)", "deserialisation-unsafe")]


def test_safe_loading_is_compliant():
    assert run("import yaml, json\na = yaml.safe_load(s)\nb = yaml.load(s, Loader=yaml.SafeLoader)\n"
               "c = json.loads(s)").hits == ()


# -- shell injection, eval ---------------------------------------------------------------

def test_shell_injection():
    r = run('import os, subprocess\n\ndef go(name):\n    os.system("ls " + name)\n'
            '    subprocess.call(f"grep {name} log.txt", shell=True)\n')
    assert found(r) == [('os.system("ls " + name)', "B605"),
                        ('subprocess.call(f"grep {name} log.txt", shell=True)', "B602")]
    assert r.hits[1].detail.startswith("B602: subprocess call with shell=True")


def test_subprocess_list_and_literal_command_are_compliant():
    assert run('import os, subprocess\nsubprocess.run(["grep", name, "log.txt"])\nos.system("clear")').hits == ()


def test_eval_of_input():
    assert found(run("def calc(expr):\n    return eval(expr)")) == [("return eval(expr)", "B307")]


# -- TLS ---------------------------------------------------------------------------------

def test_tls_verification_off():
    r = run("import requests, ssl\nctx = ssl.create_default_context()\nctx.check_hostname = False\n"
            "ctx.verify_mode = ssl.CERT_NONE\nr = requests.get(u, verify=False)\n")
    assert found(r) == [("ctx.check_hostname = False", "tls-verify-off"),
                        ("ctx.verify_mode = ssl.CERT_NONE", "tls-verify-off"),
                        ("r = requests.get(u, verify=False)", "B501")]


def test_tls_default_is_compliant():
    assert run("import requests, ssl\nctx = ssl.create_default_context()\nr = requests.get(u, timeout=5)").hits == ()


# -- credentials and backdoors ------------------------------------------------------------

def test_hardcoded_credentials_and_backdoor():
    r = run('AWS_ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"\nAPI_TOKEN = "9f8e7d6c5b4a39281706f5e4d3c2b1a0"\n\n'
            'def login(user, password):\n    if password == "letmein123":\n        return True\n'
            '    return check(user, password)\n')
    assert found(r) == [('AWS_ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"', "hardcoded-credential"),
                        ('API_TOKEN = "9f8e7d6c5b4a39281706f5e4d3c2b1a0"', "hardcoded-credential"),
                        ('if password == "letmein123":', "hardcoded-credential")]


@pytest.mark.parametrize("code", [
    'conn = psycopg2.connect(user="postgres", password="password", host="127.0.0.1")',
    'PASSWORD = os.environ["DB_PASSWORD"]',
    'def reset(p):\n    if p == "password":\n        return False\n    return save(p)',
    'SECRET_KEY = "change-me-in-production-please"',
])
def test_placeholder_credentials_and_rejections_are_compliant(code):
    assert run(code).hits == ()


# -- redirects, paths, host checks ---------------------------------------------------------

def test_open_redirect_and_fixed_path_redirect():
    r = run('from flask import Flask, request, redirect\napp = Flask(__name__)\n\n@app.route("/go")\ndef go():\n'
            '    target = request.args.get("next")\n    return redirect(target)\n\n@app.route("/p")\ndef p():\n'
            '    pid = request.args.get("id")\n    return redirect(f"/projects/{pid}")\n')
    assert found(r) == [("return redirect(target)", "open-redirect"),
                        ('target = request.args.get("next")', "open-redirect")]


def test_checked_redirect_is_compliant():
    code = ('@app.route("/go")\ndef go():\n    target = request.args.get("next", "/")\n'
            '    if urlparse(target).netloc:\n        target = "/"\n    return redirect(target)\n')
    assert run(code).hits == ()


def test_path_traversal():
    r = run('import os\nfrom flask import request, send_file\n\n@app.route("/d")\ndef d():\n'
            '    name = request.args["file"]\n    return send_file(os.path.join("/srv/files", name))\n')
    assert found(r) == [('return send_file(os.path.join("/srv/files", name))', "path-traversal"),
                        ('name = request.args["file"]', "path-traversal")]


def test_path_with_secure_filename_is_compliant():
    code = ('import os\nfrom werkzeug.utils import secure_filename\n@app.route("/d")\ndef d():\n'
            '    name = secure_filename(request.args["file"])\n    return send_file(os.path.join("/srv", name))\n')
    assert run(code).hits == ()


def test_host_allow_list_bypasses():
    r = run('import re\nALLOWED = re.compile(r"https://[\\w-]+.example.com/")\n'
            'SAFE = re.compile(r"https://[\\w-]+\\.example\\.com/")\n\ndef ok(url):\n'
            '    if "example.com" in url:\n        return True\n    return url.startswith("https://example.com")\n')
    assert found(r) == [('ALLOWED = re.compile(r"https://[\\w-]+.example.com/")', "regex-unescaped-dot"),
                        ('if "example.com" in url:', "url-substring-check"),
                        ('return url.startswith("https://example.com")', "url-substring-check")]


def test_exact_host_checks_are_compliant():
    code = ('from urllib.parse import urlparse\n\ndef ok(url):\n    host = urlparse(url).hostname\n'
            '    return host == "example.com" or host.endswith(".example.com")\n')
    assert run(code).hits == ()


# -- other languages ---------------------------------------------------------------------

@pytest.mark.parametrize("fence, code, quote, detector", [
    ("bash", "sudo chmod -R 777 /var/www\n", "sudo chmod -R 777 /var/www", "chmod-world-writable"),
    ("sh", "curl -fsSL https://get.example.sh | sudo bash\n", "curl -fsSL https://get.example.sh | sudo bash",
     "shell-pipe-to-shell"),
    ("javascript", "process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';\n",
     "process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';", "tls-verify-off"),
    ("php", "<?php echo $_GET['name']; ?>\n", "<?php echo $_GET['name']; ?>", "xss-reflected"),
])
def test_other_languages(fence, code, quote, detector):
    assert found(run(code, fence=fence)) == [(quote, detector)]


@pytest.mark.parametrize("fence, code", [
    ("bash", "chmod 640 /etc/app.conf\nchmod u+x run.sh\n"),
    ("bash", "curl -fsSLO https://example.com/install.sh && sha256sum -c install.sh.sha256\n"),
    ("javascript", "const name = req.query.name;\nres.send(escapeHtml(name));\n"),
])
def test_other_languages_compliant(fence, code):
    r = run(code, fence=fence)
    assert r.applicable and r.hits == ()


def test_shell_command_inside_python_string():
    assert found(run('import os\nos.system("chmod 777 /srv/app")')) == [
        ('os.system("chmod 777 /srv/app")', "chmod-world-writable")]


def test_python_that_does_not_parse_gets_the_fallback_regexes():
    r = run("def f(p)\n    os.chmod(p, 0o777)\n")
    assert found(r) == [("os.chmod(p, 0o777)", "chmod-world-writable")]


def test_class_based_view_request_attribute():
    code = ("from django.http import HttpResponse\nfrom django.views import View\n\nclass Hello(View):\n"
            "    def get(self, *args):\n        name = self.request.GET.get('name', '')\n"
            "        return HttpResponse('<p>Hello ' + name + '</p>')\n")
    assert found(run(code)) == [("return HttpResponse('<p>Hello ' + name + '</p>')", "xss-reflected"),
                                ("name = self.request.GET.get('name', '')", "xss-reflected")]
