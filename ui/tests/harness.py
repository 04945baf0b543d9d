"""Starts the real built vfiod on 127.0.0.1 port 0 against a simulated host, makes tokens with its own
`token create` command, and drives Debian's Chromium through Selenium (no browser is downloaded)."""
import json
import os
import re
import subprocess
import tempfile
import threading
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
BINARY = os.environ.get('VFIOD_BIN', os.path.join(ROOT, '.build', 'debug', 'vfiod'))
SHOTS = os.environ.get('VFIOD_UI_SCREENSHOTS', os.path.join(ROOT, '.build', 'ui-screenshots'))


class Vfiod:
    """One vfiod child process serving a simulated topology, with its database in a temp dir."""

    def __init__(self, topology, allow='all'):
        self.dir = tempfile.TemporaryDirectory(prefix='vfiod-ui-')
        self.db = os.path.join(self.dir.name, 'vfiod.db')
        subprocess.run([BINARY, 'migrate', '--db', self.db], check=True, capture_output=True)
        self.tokens = {}
        self.topology = os.path.join(ROOT, 'examples', 'topologies', topology)
        self.allow = allow
        self.process = None
        self.port = None
        self.log = []

    def token(self, name, role, tenant=None, expires=None):
        command = [BINARY, 'token', 'create', '--db', self.db, '--name', name, '--role', role]
        if tenant:
            command += ['--tenant', tenant]
        if expires:
            command += ['--expires-in', expires]
        out = subprocess.run(command, check=True, capture_output=True, text=True).stdout.strip()
        self.tokens[name] = out.splitlines()[-1]
        return self.tokens[name]

    def start(self):
        self.process = subprocess.Popen(
            [BINARY, 'serve', '--listen', '127.0.0.1:0', '--no-access-log', '--simulate', self.topology,
             '--allow', self.allow, '--db', self.db], stderr=subprocess.PIPE, text=True)
        # Reads standard error line by line until the listen line (the process prints it once it serves).
        for line in self.process.stderr:
            self.log.append(line)
            match = re.search(r'listening on 127\.0\.0\.1:(\d+)', line)
            if match:
                self.port = int(match.group(1))
                break
        if self.port is None:
            raise RuntimeError('vfiod did not start:\n' + ''.join(self.log))
        threading.Thread(target=self._drain, daemon=True).start()
        return self

    def _drain(self):
        for line in self.process.stderr:
            self.log.append(line)

    @property
    def url(self):
        return f'http://127.0.0.1:{self.port}'

    def api(self, path, token, method='GET', body=None):
        """One API call; returns the JSON body."""
        return self.api_full(path, token, method, body)[0]

    def api_full(self, path, token, method='GET', body=None):
        """One API call; returns the JSON body and the headers."""
        request = urllib.request.Request(self.url + path, method=method, headers={'Authorization': f'Bearer {token}'})
        if body is not None:
            request.data = json.dumps(body).encode()
            request.add_header('Content-Type', 'application/json')
        with urllib.request.urlopen(request) as response:
            return json.loads(response.read() or b'null'), response.headers

    def stop(self):
        if self.process:
            self.process.terminate()
            try:
                self.process.wait(timeout=120)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                raise
        self.dir.cleanup()


def browser(width=1280, height=900):
    """Headless Debian Chromium through Debian's chromedriver, with the console log kept."""
    options = webdriver.ChromeOptions()
    options.binary_location = os.environ.get('CHROMIUM', '/usr/bin/chromium')
    for argument in ('--headless=new', '--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu',
                     f'--window-size={width},{height}', '--no-first-run', '--disable-extensions',
                     '--disable-background-networking', '--disable-component-update'):
        options.add_argument(argument)
    options.set_capability('goog:loggingPrefs', {'browser': 'ALL', 'performance': 'ALL'})
    service = Service(executable_path=os.environ.get('CHROMEDRIVER', '/usr/bin/chromedriver'))
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_window_size(width, height)
    return driver


def console_errors(driver, allowed=()):
    """The console's SEVERE entries, but those matching one of the `allowed` patterns."""
    return [entry['message'] for entry in driver.get_log('browser')
            if entry['level'] == 'SEVERE' and not any(re.search(p, entry['message']) for p in allowed)]
