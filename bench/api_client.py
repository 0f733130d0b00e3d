"""A minimal client of the product's HTTP API for the benchmark scripts (standard library only)."""
import http.client
import json
import urllib.parse

PASSWORD = "plum-orchard-47-velvet-kayak"


def connect(base):
    url = urllib.parse.urlparse(base)
    return http.client.HTTPConnection(url.hostname, url.port, timeout=120)


def call(conn, method, path, token=None, body=None):
    """Sends one JSON request; exits with the status and the body's start on any error."""
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    response = conn.getresponse()
    data = response.read()
    if response.status >= 300:
        raise SystemExit(f"{method} {path}: HTTP {response.status} {data[:300]!r}")
    return json.loads(data) if data else None


def sign_up(conn):
    """A new organization's owner; answers its access token."""
    owner = call(conn, "POST", "/api/v1/auth/signup", body={
        "email": "bench@example.com", "password": PASSWORD, "name": "Bench", "organization_name": "Bench"})
    return owner["access_token"]


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]
