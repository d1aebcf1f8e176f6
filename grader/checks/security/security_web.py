"""What the flow analysis knows about web frameworks (Flask, Django, Starlette/FastAPI,
DRF, aiohttp): where request data comes from, which calls clean it, which calls turn a
value into a response, a template, a redirect or a file path."""
from __future__ import annotations

import ast
import re

REQUEST_ROOTS = ("request", "req")
REQUEST_DATA = {
    "args", "form", "values", "json", "get_json", "cookies", "headers", "files", "data", "get_data",
    "query_string", "view_args", "url", "path", "full_path", "base_url", "referrer", "user_agent",
    "GET", "POST", "COOKIES", "body", "META", "FILES", "query_params", "path_params", "query",
    "match_info", "rel_url", "post", "params", "stream", "environ", "text",
}
SANITIZER = re.compile(r"escape|saniti[sz]e|clean|bleach|strip_tags|quote|secure_filename|basename|"
                       r"^(?:int|float|bool|len|abs|round|ord|hash|id|isinstance|uuid\d?|UUID|Decimal)$|"
                       r"jsonify|dumps|url_for|urlencode|hexdigest|digest|validate|count|index|find|"
                       r"^is|^has|startswith|endswith|match|fullmatch|search", re.IGNORECASE)
PROPAGATING_BUILTINS = {"str", "repr", "format", "list", "tuple", "dict", "set", "sorted", "reversed", "bytes"}
BUILDING_METHODS = {"join", "format", "format_map", "replace", "substitute", "safe_substitute", "joinpath",
                    "with_name", "with_suffix", "__add__", "__mod__"}
SCALAR_FIELDS = {"args", "form", "values", "cookies", "headers", "GET", "POST", "COOKIES", "query_params",
                 "path_params", "match_info", "query", "params"}
STRING_METHODS = {"strip", "lstrip", "rstrip", "lower", "upper", "title", "capitalize", "replace", "format",
                  "decode", "encode", "join", "casefold", "swapcase", "zfill", "center", "ljust", "rjust"}
MUTATORS = {"append", "extend", "insert", "add", "update", "setdefault", "appendleft", "put", "push"}
HTML = re.compile(r"<\s*/?\s*[a-zA-Z][a-zA-Z0-9-]*[\s>/]|&lt;/?[a-zA-Z]")
ROUTE_DECORATORS = {"route", "get", "post", "put", "delete", "patch", "api_route", "websocket", "view"}
RESPONSE_CALLS = ("make_response", "Response", "HttpResponse", "HTMLResponse")
TEMPLATE_SOURCE = ("jinja2.Template", "flask.render_template_string", "Template")
REDIRECTS = ("redirect", "HttpResponseRedirect", "RedirectResponse", "HttpResponsePermanentRedirect")
FILE_SINKS = ("open", "send_file", "os.remove", "os.unlink", "os.rmdir", "shutil.rmtree", "shutil.copy",
              "shutil.copyfile", "shutil.move", "os.rename", "io.open", "codecs.open", "FileResponse")
PATH_GUARDS = re.compile(r"realpath|abspath|normpath|commonpath|commonprefix|is_relative_to|resolve|"
                         r"secure_filename|safe_join|basename")


def is_route(func: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    return any(isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute) and d.func.attr in ROUTE_DECORATORS
               for d in func.decorator_list)


def route_params(func: ast.FunctionDef | ast.AsyncFunctionDef) -> dict[str, str]:
    out: dict[str, str] = {}
    for dec in func.decorator_list:
        if not (isinstance(dec, ast.Call) and isinstance(dec.func, ast.Attribute) and dec.func.attr in ROUTE_DECORATORS
                and dec.args and isinstance(dec.args[0], ast.Constant) and isinstance(dec.args[0].value, str)):
            continue
        rule = dec.args[0].value
        for conv, name in re.findall(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>", rule):
            if conv in ("", "string", "path", "any"):
                out[name] = f"route parameter <{conv + ':' if conv else ''}{name}>"
        for name, conv in re.findall(r"\{(\w+)(?::(\w+))?\}", rule):
            if conv in ("", "str", "path"):
                out[name] = f"path parameter {{{name}}}"
    annotated = {a.arg: a.annotation for a in func.args.args}
    plain = ("str", "Path", "pathlib.Path")
    return {n: d for n, d in out.items()
            if n in annotated and (annotated[n] is None or ast.unparse(annotated[n]) in plain)}  # type: ignore[arg-type]


def fixed_target(node: ast.AST) -> bool:
    """A redirect target whose start is a literal path ("/project/...") or a literal
    absolute URL with a path: the request data cannot choose the host."""
    first: ast.AST | None = node
    while isinstance(first, ast.BinOp):
        first = first.left
    if isinstance(first, ast.JoinedStr):
        first = first.values[0] if first.values else None
    if isinstance(first, ast.Call) and isinstance(first.func, ast.Attribute) and first.func.attr == "format":
        first = first.func.value
    if isinstance(first, ast.Constant) and isinstance(first.value, str):
        v = first.value
        return (v.startswith("/") and not v.startswith("//") and not v.startswith("/\\")) or \
            bool(re.match(r"https?://[^/]+/", v))
    return False
