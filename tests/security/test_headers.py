"""Issue #15, finding 12: Permissions-Policy; the server does not announce its version."""

import threading
import urllib.request

from werkzeug.serving import make_server


def test_pages_and_api_carry_a_permissions_policy(client):
    for path in ("/login", "/api/v1/me", "/healthz"):
        policy = client.get(path).headers.get("Permissions-Policy", "")
        for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()"):
            assert feature in policy, (path, feature)


def test_the_development_server_does_not_announce_versions(app):
    server = make_server("127.0.0.1", 0, app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/login") as response:
            announced = response.headers.get("Server", "")
    finally:
        server.shutdown()
        thread.join()
    assert "Werkzeug" not in announced and "Python" not in announced
    assert not any(char.isdigit() for char in announced)


def test_gunicorn_does_not_announce_its_version(app):
    import gunicorn.http.wsgi

    assert not any(char.isdigit() for char in gunicorn.http.wsgi.SERVER)
    assert "gunicorn" not in gunicorn.http.wsgi.SERVER.lower()
