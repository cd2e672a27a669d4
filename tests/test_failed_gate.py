"""A failed smoke gate does not block later updates: the next `up` runs a fresh Job by itself.

The chain, each link read from the registrations here and from the source named in
components/smoke_gate.py:
1. the engine keeps re-updating a resource stored with initialization errors (step_generator.go);
2. pulumi-kubernetes turns that into a replacement when the Job carries replaceUnready and is not
   complete (provider.go Diff; the Job is the kind it supports);
3. it asks for delete-before-replace because the Job keeps an explicit name and namespace
   (provider.go Diff, deleteBeforeReplace conditions);
4. a delete-before-replace replaces only dependents whose inputs come from the Job
   (step_generator.go calculateDependentReplacements): the AGIC release only waits for it.
"""

from __future__ import annotations

from plan.diff import provider_deletes_first
from plan.evaluate import Evaluation

JOB = "kubernetes:batch/v1:Job"
RELEASE = "kubernetes:helm.sh/v3:Release"


def test_every_gate_asks_for_replacement_when_not_complete(blue: Evaluation) -> None:
    jobs = blue.of_type(JOB)
    assert len(jobs) == 2
    for job in jobs:
        assert job.inputs["metadata"]["annotations"] == {"pulumi.com/replaceUnready": "true"}
    # Only Jobs honour the annotation; nothing else carries it.
    for reg in blue.resources.values():
        if reg.type != JOB:
            annotations = (reg.inputs.get("metadata") or {}).get("annotations") or {}
            assert "pulumi.com/replaceUnready" not in annotations, reg.name


def test_gate_keeps_its_name_so_the_replacement_deletes_the_failed_job_first(
    blue: Evaluation,
) -> None:
    # The same config gives the same name on the next `up` (test_flip proves evaluations are
    # deterministic), so the Job is its own successor.
    for job in blue.of_type(JOB):
        meta = job.inputs["metadata"]
        assert meta["name"] and "generateName" not in meta
        # The conditions pulumi-kubernetes checks, as the plan models them.
        assert provider_deletes_first(job, job, forced=False)
        assert not job.delete_before_replace  # the provider's choice, not an option


def test_replacing_a_failed_gate_leaves_the_agic_release_alone(blue: Evaluation) -> None:
    release = blue.one(RELEASE)
    gates = {job.urn for job in blue.of_type(JOB)}
    active_gate = next(urn for urn in gates if "::blue-" in urn)
    assert active_gate in release.dependencies
    from_inputs = {urn for deps in release.property_dependencies.values() for urn in deps}
    assert not gates & from_inputs
