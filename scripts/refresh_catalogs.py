"""Refresh the offline catalogs (config/catalogs/) from their public sources, where reachable.

    .venv/bin/python scripts/refresh_catalogs.py [--subscription ID] [--location REGION]

What each source gives, and what this does with it:
- AGIC chart versions: the OCI tags list of mcr.microsoft.com/azure-application-gateway/charts/
  ingress-azure (no sign-in). Prints the versions missing from agic_chart.PUBLISHED.
- AKS minors and patches: with `az login` and --subscription, ARM's
  Microsoft.ContainerService/locations/<REGION>/kubernetesVersions (Reader). Prints the minors
  and patches the region offers that kubernetes_versions.py lacks. The calendar (GA, end of life,
  LTS end of life) is read by a person from learn.microsoft.com/azure/aks/
  supported-kubernetes-versions: it is prose, not data.
- VM sizes and regions: Microsoft.Compute/skus and `az account list-locations` for the
  subscription. Prints the sizes of listed series and the regions the catalogs lack.

It prints a report rather than rewriting the modules: each value is checked by a reviewer, its
source and TAKEN date updated in the module, and tests/test_catalogs.py run. It needs network
access; the machines this project is tested on have none, so it has not been run there.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from config.catalogs import agic_chart, kubernetes_versions, regions, vm_sizes
from live_gateway.caller import caller_credential
from live_gateway.preflight import PreflightReadError, Subscription, chart_tags


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscription", help="ask ARM as `az login` (Reader suffices)")
    parser.add_argument("--location", default="westeurope")
    args = parser.parse_args(argv)
    failed = False
    try:
        tags = chart_tags(agic_chart.REGISTRY, agic_chart.REPOSITORY)
    except PreflightReadError as err:
        print(f"chart registry: {err}", file=sys.stderr)
        failed = True
    else:
        releases = [t for t in tags if t.count(".") == 2 and t.replace(".", "").isdigit()]
        missing = sorted(set(releases) - set(agic_chart.PUBLISHED))
        print(f"AGIC charts not in agic_chart.PUBLISHED: {', '.join(missing) or 'none'}")
    if args.subscription:
        subscription = Subscription(args.subscription, caller_credential())
        try:
            offered = subscription.kubernetes_versions(args.location)
            for minor, patches in sorted(offered.items()):
                release = kubernetes_versions.BY_MINOR.get(minor)
                known = {f"{minor}.{p}" for p in release.aks_patches} if release else set()
                new = sorted(patches - known)
                print(
                    f"{minor}: {'not in the catalog' if release is None else 'patches'} "
                    f"{', '.join(new) or '(none new)'}"
                )
            sizes = subscription.vm_sizes(args.location)
            for name in sorted(sizes):
                series = vm_sizes.series_of(name)
                if series in vm_sizes.SERIES and name not in vm_sizes.SIZES:
                    print(f"VM size of a listed series missing from vm_sizes.SIZES: {name}")
        except PreflightReadError as err:
            print(f"ARM: {err}", file=sys.stderr)
            failed = True
        finally:
            subscription.close()
    print(f"regions listed: {len(regions.REGIONS)}; compare with `az account list-locations`")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
