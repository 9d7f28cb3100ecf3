"""Fixtures and hooks of the lifecycle suite (tests/lifecycle).

The suite runs its steps in file order on one lab, each starting from the state the one
before left: a module that sets INCREMENTAL = True has its later tests skipped after the
first failure (pytest's incremental pattern), with the failed step named. A failure that
leaves the lab as the next step expects (harness.LabIntact: the step's playbook does not
exist yet, a refusal says something else, the probe measured too much disruption) does
not skip the rest. At the end the report's summary table is printed;
.lab/lifecycle-report.json has every number.
"""

import os

import pytest

import harness

REPORT_KEY = pytest.StashKey[harness.Report]()
RESUME = os.environ.get("SWARMOPS_LIFECYCLE_FROM", "")


def pytest_collection_modifyitems(items):
    """With SWARMOPS_LIFECYCLE_FROM, skip the tests before the named one."""
    if not RESUME:
        return
    names = [item.name for item in items]
    if RESUME not in names:
        raise pytest.UsageError(f"SWARMOPS_LIFECYCLE_FROM={RESUME}: no such test")
    for item in items[:names.index(RESUME)]:
        item.add_marker(pytest.mark.skip(reason=f"resuming from {RESUME}"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Remember the first failed step of an incremental module. Not counted: xfail, and a
    failure that leaves the lab as the next step expects (harness.LabIntact: a playbook
    that does not exist yet, a refusal with another message, a probe over its goal)."""
    outcome = yield
    report = outcome.get_result()
    module = item.module
    untouched = call.excinfo is not None and call.excinfo.errisinstance(harness.LabIntact)
    if report.failed and not untouched and getattr(module, "INCREMENTAL", False) \
            and not getattr(module, "FAILED_STEP", None):
        module.FAILED_STEP = item.name


def pytest_runtest_setup(item):
    """Skip the steps after a failed one: the lab is not in the state they start from."""
    failed = getattr(item.module, "FAILED_STEP", None)
    if failed:
        pytest.skip(f"an earlier step failed ({failed}): the lab is not in the state this "
                    "step starts from")


def pytest_terminal_summary(terminalreporter, config):
    """The report's table: per step the playbooks' wall times and the measured numbers."""
    report = config.stash.get(REPORT_KEY, None)
    if report is None:
        return
    terminalreporter.section("lifecycle report")
    # The table last: molecule's verify step shows the end of this output.
    for line in report.detail_lines() + report.summary_lines():
        terminalreporter.write_line(line)


@pytest.fixture(name="report", scope="session")
def fixture_report(request, lab):
    """The suite's report, written to .lab/lifecycle-report.json as the steps go."""
    # One file per suite (SWARMOPS_LIFECYCLE_REPORT: a file name under .lab).
    path = harness.STATE / os.environ.get("SWARMOPS_LIFECYCLE_REPORT", "lifecycle-report.json")
    report = harness.Report(lab.name, path=path, resume=bool(RESUME))
    request.config.stash[REPORT_KEY] = report
    report.save()
    return report


@pytest.fixture(name="lab", scope="session")
def fixture_lab():
    """The lab this suite changes for good (removes, wipes, resets its nodes): it must be
    named explicitly with SWARMOPS_LAB_NAME and have the layout the scenario makes."""
    name = os.environ.get("SWARMOPS_LAB_NAME")
    if not name:
        pytest.fail("SWARMOPS_LAB_NAME is not set: this suite removes, wipes and resets the "
                    "nodes of the lab it is given; run it from molecule/lifecycle or name "
                    "a lab made for it")
    storage = [n for n in os.environ.get("SWARMOPS_LAB_STORAGE", "").split(",") if n]
    # Each suite's fixture checks the layout its scenario makes (harness.check_layout).
    return harness.Lab(name=name, storage=storage).refresh()


@pytest.fixture(name="ledger", scope="session")
def fixture_ledger(lab):
    """Every file written to the shared volume so far, with its checksum (when resuming:
    the files the first running node reads there now)."""
    ledger = harness.Ledger()
    if RESUME:
        reader = next(n for n in lab.nodes if lab.running(n))
        ledger.files = harness.read_checksums(lab, reader, harness.DATA_DIR)
    return ledger
