"""Steps a person takes in the browser, shared by the browser tests."""


def log_in(page, username: str, password: str, *, path: str = "/tech/"):
    """Open `path`, which asks for a login, and log in as that user."""
    page.goto(path)
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button:has-text('Log in')")
