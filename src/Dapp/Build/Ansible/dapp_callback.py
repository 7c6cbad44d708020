# dapp's stdout callback for ansible-playbook in a stage container (part of dapp's ansible toolchain).
# One line per task: "NAME (MODULE): ok|changed|skipped|FAILED: MESSAGE", with the output of commands indented below;
# the first failure that stops the play is also written, as JSON, to the file dapp reads to name it in its error.
from __future__ import annotations

DOCUMENTATION = '''
    name: dapp
    type: stdout
    short_description: one line per task for dapp's build output
    description: prints each task's name, module and result on one line, and records the failing task for dapp
'''

import json
import os

from ansible.plugins.callback import CallbackBase

FAILURE_FILE = '@WORK@/failure.json'
OUTPUT_KEYS = ('stdout_lines', 'stderr_lines')


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'stdout'
    CALLBACK_NAME = 'dapp'

    def __init__(self):
        super().__init__()
        # The toolchain's settings are for ansible's own process: the commands the tasks run must not see them.
        for name in ('LOCPATH', 'OPENSSL_MODULES', 'ANSIBLE_CONFIG'):
            os.environ.pop(name, None)
        self._failed = False

    @staticmethod
    def _title(task, item=None):
        module = task.action
        title = '%s (%s)' % (task.name, module) if task.name else module
        return title if item is None else '%s [%s]' % (title, item)

    def _show(self, result, status, item=None):
        r = result._result
        line = '%s: %s' % (self._title(result._task, item), status)
        if result._task.action in ('debug', 'ansible.builtin.debug') and 'msg' in r:
            msg = r['msg']
            line += ': ' + (msg if isinstance(msg, str) else json.dumps(msg, sort_keys=True))
        self._display.display(line)
        for key in OUTPUT_KEYS:
            for text in r.get(key) or []:
                self._display.display('  ' + text)

    @staticmethod
    def _message(r):
        msg = r.get('msg') or ''
        if not isinstance(msg, str):
            msg = json.dumps(msg, sort_keys=True)
        if msg.startswith('MODULE FAILURE'):
            detail = (r.get('module_stderr') or r.get('module_stdout') or '').strip().splitlines()
            return 'MODULE FAILURE: ' + detail[-1] if detail else 'MODULE FAILURE'
        if 'rc' in r and r.get('rc') not in (0, None):
            stderr = (r.get('stderr') or '').strip().splitlines()
            msg = '%s (exit code %s)' % (msg or 'command failed', r['rc'])
            if stderr:
                msg += ': ' + stderr[-1]
        return msg or 'failed'

    def _fail(self, result, ignore_errors, item=None):
        message = self._message(result._result)
        if ignore_errors:
            self._show(result, 'failed (ignored): ' + message, item)
            return
        self._show(result, 'FAILED: ' + message, item)
        for text in (result._result.get('module_stderr') or '').strip().splitlines():
            self._display.display('  ' + text)
        if not self._failed:
            self._failed = True
            task = result._task
            with open(FAILURE_FILE, 'w') as f:
                json.dump({'task': task.name or '', 'module': task.action, 'message': message}, f)

    @staticmethod
    def _looped(result):
        return result._task.loop is not None and 'results' in result._result

    def v2_runner_on_ok(self, result):
        if not self._looped(result):
            self._show(result, 'changed' if result._result.get('changed') else 'ok')

    def v2_runner_on_failed(self, result, ignore_errors=False):
        if not self._looped(result):
            self._fail(result, ignore_errors)

    def v2_runner_on_unreachable(self, result):
        self._fail(result, False)

    def v2_runner_on_skipped(self, result):
        if not self._looped(result):
            self._display.display('%s: skipped' % self._title(result._task))

    def v2_runner_item_on_ok(self, result):
        self._show(result, 'changed' if result._result.get('changed') else 'ok', self._get_item_label(result._result))

    def v2_runner_item_on_failed(self, result):
        self._fail(result, result._task.ignore_errors, self._get_item_label(result._result))

    def v2_runner_item_on_skipped(self, result):
        self._display.display('%s: skipped' % self._title(result._task, self._get_item_label(result._result)))
