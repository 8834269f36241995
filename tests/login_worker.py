"""A separate process signing in (for the cross-process throttling test): creates the app from
the environment, tries `username`/`password` N times, prints each status code."""
import re
import sys

from quizapp import create_app


def main(username: str, password: str, attempts: int) -> None:
    app = create_app({"PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
    client = app.test_client()
    for _ in range(attempts):
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        response = client.post("/login", data={"username": username, "password": password, "csrf_token": token})
        print(response.status_code)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
