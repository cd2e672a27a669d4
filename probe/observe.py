"""One request, classified (classify.py) and attributed (attribution.py)."""

from __future__ import annotations

from collections.abc import Callable

from probe.attribution import Attribution
from probe.classify import OK, StatusPolicy, kind_of_exception
from probe.record import Observation
from probe.request import Requester


def observer(
    requester: Requester, policy: StatusPolicy, attribution: Attribution
) -> Callable[[], Observation]:
    def attempt() -> Observation:
        try:
            answer = requester.get()
        except Exception as err:  # every transport failure is a result, never a crash
            kind, detail = kind_of_exception(err)
            return Observation(kind, detail=detail)
        cluster = attribution.cluster_of(answer.headers, answer.body)
        if policy.accepts(answer.status):
            return Observation(OK, answer.status, cluster)
        return Observation("status", answer.status, cluster, f"HTTP {answer.status}")

    return attempt
