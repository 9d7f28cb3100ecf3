# -*- coding: utf-8 -*-
# Copyright: swarmops.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Times a playbook run by role (wall clock between task starts) and counts each host's task
results, for benchmarks/bench.py."""

from __future__ import annotations

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: role_timer
type: aggregate
short_description: Wall-clock time of a run split by role, and task results per host, as JSON
description:
  - "Used by benchmarks/bench.py. Writes {roles: {name: seconds}, slowest_tasks: [[name,
    seconds]], total: seconds, changed: n, hosts: {host: {results, ok, changed, skipped,
    failures, unreachable}}, module_timings: [{task, item, changed, timings}], contacted:
    [host]} to the file named by SWARMOPS_BENCH_OUT."
  - "contacted lists every host a task ran on (delegation targets included); tasks the
    controller answers alone (set_fact, assert, debug, includes, ...) contact nobody."
  - "module_timings holds the C(timings) a module returned (the stack module's deploy,
    wait and lag), per loop item."
  - "Task results per host are counted as the play recap counts them: ok (which includes
    changed) + skipped + failures + unreachable, i.e. every task result the host got,
    delegated ones included."
requirements:
  - SWARMOPS_BENCH_OUT names the output file
"""


# Actions the controller answers without contacting the host.
CONTROLLER_ONLY = {"set_fact", "assert", "debug", "fail", "meta", "group_by", "add_host",
                   "include_tasks", "import_tasks", "include_role", "import_role",
                   "include_vars", "pause", "validate_argument_spec", "set_stats"}


class CallbackModule(CallbackBase):
    """Accumulates the time from each task's start to the next one's under its role."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "role_timer"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self.start = time.monotonic()
        self.current = None
        self.since = self.start
        self.roles = {}
        self.tasks = {}
        self.module_timings = []
        self.contacted = set()

    def _switch(self, role, task=None):
        """Charge the time since the last switch to the running role and task."""
        now = time.monotonic()
        if self.current is not None:
            spent = now - self.since
            self.roles[self.current[0]] = self.roles.get(self.current[0], 0.0) + spent
            self.tasks[self.current[1]] = self.tasks.get(self.current[1], 0.0) + spent
        self.current = (role, task) if role else None
        self.since = now

    def v2_playbook_on_task_start(self, task, is_conditional):
        role = task._role.get_name() if task._role else "(play tasks)"  # pylint: disable=protected-access
        role = role.split(".")[-1]
        self._switch(role, f"{role}: {task.get_name()}")

    def _record_timings(self, result):
        """Keep the timings a module returned (a loop's items one by one), and the seconds
        a module waited for the cluster (`waited`)."""
        res = result._result  # pylint: disable=protected-access
        timings = res.get("timings")
        if isinstance(res.get("waited"), (int, float)) and not isinstance(timings, dict):
            self.module_timings.append({"task": result.task_name, "changed": False,
                                        "item": None, "timings": {},
                                        "waited": float(res["waited"])})
        if isinstance(res.get("timings"), dict):
            item = res.get(res.get("ansible_loop_var") or "item")
            self.module_timings.append({
                "task": result.task_name, "changed": bool(res.get("changed")),
                "item": item.get("name") if isinstance(item, dict) else item,
                "timings": res["timings"]})

    def _record_contact(self, result):
        """The host the task ran on: its delegation target (as the default callback shows
        it), else its own host. A loop's items are recorded one by one."""
        task = result._task  # pylint: disable=protected-access
        res = result._result  # pylint: disable=protected-access
        if task.action.split(".")[-1] in CONTROLLER_ONLY or res.get("skipped") or \
                isinstance(res.get("results"), list):
            return
        self.contacted.add(task.delegate_to or result._host.get_name())  # pylint: disable=protected-access

    def v2_runner_on_ok(self, result):
        self._record_timings(result)
        self._record_contact(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record_contact(result)

    def v2_runner_on_unreachable(self, result):
        self._record_contact(result)

    def v2_runner_item_on_ok(self, result):
        self._record_timings(result)
        self._record_contact(result)

    def v2_runner_item_on_failed(self, result):
        self._record_contact(result)

    def v2_playbook_on_handler_task_start(self, task):
        self.v2_playbook_on_task_start(task, False)

    @staticmethod
    def _host_results(stats):
        """Each host's recap counters and its number of task results."""
        hosts = {}
        for host in sorted(stats.processed):
            counts = stats.summarize(host)
            counts["results"] = (counts["ok"] + counts["skipped"] + counts["failures"]
                                 + counts["unreachable"])
            hosts[host] = counts
        return hosts

    def v2_playbook_on_stats(self, stats):
        self._switch(None)
        changed = sum(stats.changed.values())
        slowest = sorted(self.tasks.items(), key=lambda kv: -kv[1])[:10]
        out = {"roles": {k: round(v, 2) for k, v in self.roles.items()},
               "slowest_tasks": [[k, round(v, 2)] for k, v in slowest],
               "total": round(time.monotonic() - self.start, 2), "changed": changed,
               "hosts": self._host_results(stats), "module_timings": self.module_timings,
               "contacted": sorted(self.contacted)}
        with open(os.environ["SWARMOPS_BENCH_OUT"], "w", encoding="utf-8") as handle:
            json.dump(out, handle)
