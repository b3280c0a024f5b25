"""Token renewal timing and the redactor, with an injected clock."""

from __future__ import annotations

from grafterr_pipeline.client.auth import TokenProvider
from grafterr_pipeline.client.stats import StatsRecorder
from grafterr_pipeline.redact import MASK, Redactor
from grafterr_pipeline.settings import Secret
from tests.client.fakes import FakeClock


def make_provider(clock: FakeClock, lifetime: float = 100.0) -> tuple[TokenProvider, list[str]]:
    issued: list[str] = []

    def fetch(recorder: StatsRecorder) -> tuple[str, float]:
        issued.append(f"token-{len(issued)}")
        return issued[-1], lifetime

    return TokenProvider(fetch, clock=clock, renew_margin_seconds=60.0), issued


def test_token_is_reused_then_renewed_shortly_before_it_expires() -> None:
    clock = FakeClock()
    provider, _ = make_provider(clock)
    recorder = StatsRecorder()

    first = provider.token(recorder)
    clock.now += 79
    still = provider.token(recorder)
    clock.now += 2
    renewed = provider.token(recorder)

    assert first == still == "token-0" and renewed == "token-1"


def test_invalidating_a_stale_token_does_not_drop_the_new_one() -> None:
    provider, issued = make_provider(FakeClock())
    recorder = StatsRecorder()
    old = provider.token(recorder)
    provider.invalidate(old)
    new = provider.token(recorder)

    provider.invalidate(old)

    assert provider.token(recorder) == new and len(issued) == 2
    assert "token-1" not in repr(provider)


def test_redactor_masks_every_known_secret_including_added_tokens() -> None:
    redactor = Redactor([Secret("client-secret-xyz"), "api-key-123"])
    redactor.add("tok-abcdef")

    text = redactor.redact("secret client-secret-xyz key api-key-123 bearer tok-abcdef")

    assert text == f"secret {MASK} key {MASK} bearer {MASK}"
