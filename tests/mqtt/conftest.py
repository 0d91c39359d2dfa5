import pytest

from tests.mosquitto import MosquittoServer


@pytest.fixture
def mosquitto():
    """A private Mosquitto with dynamic security on a free port (tests/mosquitto.py)."""
    if not MosquittoServer.available():
        pytest.skip(
            "mosquitto and its dynamic security plugin are needed (apt-get install mosquitto)"
        )
    server = MosquittoServer().init()
    yield server
    server.destroy()
