"""Every test here runs a shop with the distribution plugin enabled."""
import pytest


@pytest.fixture
def siyu_config():
    return {"PLUGINS": ["distribution"]}
