"""The dashboard's benchmark (not a test): on the 4,096-function simulated host, in headless Chromium,
the time from navigation to the groups view drawn (cold cache, then warm), the bytes transferred (the
dashboard's own files, compressed, and the API's JSON), and how long a lease's change takes to reach the
screen after its commit. Figures go to bench/README.md. Usage: .build/ui-venv/bin/python bench/dashboard.py
(after `swift build` and one `ui/run-tests`, which makes the venv)."""
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'ui', 'tests'))
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from harness import Vfiod, browser  # noqa: E402

RUNS = int(os.environ.get('RUNS', '3'))

SIZES = """
const entries = [performance.getEntriesByType('navigation')[0], ...performance.getEntriesByType('resource')];
const own = entries.filter((e) => new URL(e.name).pathname.startsWith('/ui/'));
const api = entries.filter((e) => new URL(e.name).pathname.startsWith('/v1/'));
const sum = (list, key) => list.reduce((a, e) => a + (e[key] || 0), 0);
return {drawn: performance.getEntriesByName('vfiod:groups-drawn')[0]?.startTime,
        ownTransfer: sum(own, 'transferSize'), ownDecoded: sum(own, 'decodedBodySize'), ownFiles: own.length,
        apiTransfer: sum(api, 'transferSize'), apiDecoded: sum(api, 'decodedBodySize')};
"""


def groups_load(server, token, driver, cold):
    """Navigates to the groups view with the token already in the tab; returns the page's figures."""
    # Another document first: the load below is a real navigation (with the cache warm or not).
    driver.get(server.url + '/healthz')
    if cold:
        driver.execute_script("sessionStorage.setItem('vfiod.token', arguments[0])", token)
    driver.get(server.url + '/ui/#/groups')
    WebDriverWait(driver, 120).until(lambda d: d.execute_script(
        "return performance.getEntriesByName('vfiod:groups-drawn').length > 0"))
    return driver.execute_script(SIZES)


FILTER = """
const [query, done] = arguments;
const count = document.getElementById('group-count');
const before = count.textContent;
const search = document.querySelector('main input[type=search]');
const started = performance.now();
new MutationObserver((_, observer) => {
  if (count.textContent === before) return;
  observer.disconnect();
  // The search waits 120 ms after the last key on purpose: what is left is the filtering and drawing.
  requestAnimationFrame(() => done({ms: performance.now() - started - 120, shown: count.textContent}));
}).observe(count, {childList: true, characterData: true, subtree: true});
search.value = query;
search.dispatchEvent(new Event('input'));
"""


def filter_times(driver):
    """Types three searches into the groups view; returns the ms each took to filter and redraw."""
    driver.set_script_timeout(60)
    return [driver.execute_async_script(FILTER, q)['ms'] for q in ('vfio-pci', '10de', '')]


def lease_latency(server, token, driver):
    """Leases a group through the API while the page shows the assignments view; returns the ms from the
    assignment's commit (its updatedAt once active) to the page drawing it active."""
    driver.get(server.url + '/ui/#/assignments')
    WebDriverWait(driver, 60).until(lambda d: d.find_elements(By.CSS_SELECTOR, 'main h1'))
    driver.execute_script("""
      window.__active = {};
      new MutationObserver(() => {
        for (const el of document.querySelectorAll('article.assignment[data-state=active]'))
          window.__active[el.dataset.assignment] ??= Date.now();
      }).observe(document.getElementById('main'), {subtree: true, childList: true, attributes: true});""")
    group = server.api('/v1/groups?assignable=true&pageSize=1', token)['items'][0]['id']
    created = server.api('/v1/assignments', token, method='POST',
                         body={'group': group, 'holder': {'id': 'bench', 'tenant': 'bench'}, 'ttlSeconds': 600})
    seen = WebDriverWait(driver, 60).until(lambda d: d.execute_script('return window.__active[arguments[0]]', created['id']))
    committed = server.api(f"/v1/assignments/{created['id']}", token)['updatedAt']
    server.api(f"/v1/assignments/{created['id']}", token, method='DELETE')
    from datetime import datetime
    return seen - datetime.fromisoformat(committed.replace('Z', '+00:00')).timestamp() * 1000


def main():
    server = Vfiod('stress-4096.json')
    token = server.token('bench-admin', 'admin')
    started = time.monotonic()
    server.start()
    print(f'vfiod up on the 4,096-function host in {time.monotonic() - started:.1f} s')
    cold, warm, latencies, filters = [], [], [], []
    try:
        for _ in range(RUNS):
            driver = browser(1280, 900)
            try:
                cold.append(groups_load(server, token, driver, cold=True))
                warm.append(groups_load(server, token, driver, cold=False))
                filters.extend(filter_times(driver))
                latencies.append(lease_latency(server, token, driver))
            finally:
                driver.quit()
    finally:
        report(cold, warm, latencies, filters)
        server.stop()


def report(cold, warm, latencies, filters):
    """Prints the figures (also after a failure, for the runs that finished)."""
    for name, runs in (('cold', cold), ('warm', warm)):
        if not runs:
            continue
        drawn = [r['drawn'] for r in runs]
        print(f"{name}: navigation → groups drawn {min(drawn):.0f}–{max(drawn):.0f} ms (median {statistics.median(drawn):.0f}); "
              f"dashboard files {runs[0]['ownFiles']} transferred {runs[0]['ownTransfer'] / 1024:.1f} KB "
              f"({runs[0]['ownDecoded'] / 1024:.1f} KB decoded); API {runs[0]['apiTransfer'] / 1024:.0f} KB transferred")
    if filters:
        print(f"search typed → groups filtered and redrawn (after the 120 ms pause): {min(filters):.0f}–{max(filters):.0f} ms "
              f"(median {statistics.median(filters):.0f})")
    if latencies:
        print(f"lease commit → drawn active: {min(latencies):.0f}–{max(latencies):.0f} ms (median {statistics.median(latencies):.0f})")


if __name__ == '__main__':
    main()
