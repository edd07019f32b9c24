"""Fixtures: a corio loop per test (closed after), and the loop factories
to compare corio's behaviour with asyncio's default loop."""

import asyncio

import pytest

import corio


@pytest.fixture
def loop():
    loop = corio.new_event_loop()
    yield loop
    if not loop.is_closed():
        loop.close()


@pytest.fixture(params=['corio', 'asyncio'])
def any_loop(request):
    """The same test on corio's loop and on asyncio's default one."""
    factory = corio.new_event_loop if request.param == 'corio' else asyncio.new_event_loop
    loop = factory()
    yield loop
    if not loop.is_closed():
        loop.close()
