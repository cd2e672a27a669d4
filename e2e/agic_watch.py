"""Watches, while an `up` runs, in which clusters AGIC's Deployment exists.

Two AGICs at once would fight over the gateway, and the older one could write last; the flip
therefore uninstalls the old release before installing the new one (components/agic.py,
delete-before-replace). The engine's preview shows that order; this shows it in the clusters:
both are listed every `interval` seconds, and any sample in which both hold an AGIC Deployment
(terminating or not) is recorded. It samples: an overlap shorter than one round of listing
both clusters could pass unseen.
"""

from __future__ import annotations

import threading
import time
import urllib.error
from dataclasses import dataclass, field

from e2e.clusters import LocalClusters


@dataclass
class Sample:
    at: float
    holders: frozenset[str]


@dataclass
class AgicWatch:
    clusters: LocalClusters
    namespace: str
    interval: float = 0.2
    samples: list[Sample] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> AgicWatch:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        started = time.monotonic()
        while not self._stop.is_set():
            holders = set()
            for color in self.clusters.planes:
                if not self.clusters.reachable(color):
                    continue
                try:
                    if self.clusters.holds_agic(color, self.namespace):
                        holders.add(color)
                except (OSError, urllib.error.URLError):
                    continue
            self.samples.append(Sample(time.monotonic() - started, frozenset(holders)))
            self._stop.wait(self.interval)

    @property
    def together(self) -> list[Sample]:
        """The samples in which more than one cluster held AGIC."""
        return [s for s in self.samples if len(s.holders) > 1]

    def gap(self) -> float:
        """The longest run of samples with no AGIC anywhere, in seconds."""
        longest, since = 0.0, None
        for sample in self.samples:
            if sample.holders:
                since = None
            elif since is None:
                since = sample.at
            else:
                longest = max(longest, sample.at - since)
        return longest

    def describe(self) -> str:
        moved = [s.holders for s in self.samples if s.holders]
        first, last = (sorted(moved[0]), sorted(moved[-1])) if moved else ([], [])
        empty = sum(not s.holders for s in self.samples)
        return (
            f"AGIC in {first} -> {last}, in two clusters at once in {len(self.together)} of "
            f"{len(self.samples)} samples, in none in {empty} (longest {self.gap():.1f} s)"
        )
