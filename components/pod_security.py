"""The hardened pod and container security contexts every pod of this program runs with.

They meet the Kubernetes "restricted" Pod Security Standard (non-root, no privilege escalation,
all capabilities dropped, RuntimeDefault seccomp) and go further: a read-only root filesystem
and a UID no image or node account uses.
"""

from __future__ import annotations

import pulumi_kubernetes as k8s

# Above the ranges images and distributions hand out (the .NET images' `app` is 1654, curl's
# image runs as 100), so a process that escapes its container owns nothing on the node. Neither
# image needs its own user: the .NET runtime and curl read their files as "other", and HOME
# falls back to "/" for a UID without a passwd entry.
RUN_AS_USER = 10001
RUN_AS_GROUP = 10001


def restricted_pod() -> k8s.core.v1.PodSecurityContextArgs:
    return k8s.core.v1.PodSecurityContextArgs(
        run_as_non_root=True,
        run_as_user=RUN_AS_USER,
        run_as_group=RUN_AS_GROUP,
        seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"),
    )


def restricted_container() -> k8s.core.v1.SecurityContextArgs:
    return k8s.core.v1.SecurityContextArgs(
        allow_privilege_escalation=False,
        privileged=False,
        read_only_root_filesystem=True,
        run_as_non_root=True,
        capabilities=k8s.core.v1.CapabilitiesArgs(drop=["ALL"]),
    )
