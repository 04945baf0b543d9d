"""The dashboard in a real browser (Debian's Chromium) against the real vfiod on a simulated GPU server:
sign-in, a lease from the form followed live to active, a change made while a view first reads reaching
it, its operation's steps, a release, the audit
badge, role-aware actions, a bad token, no console errors, screenshots of every view at 1280 and 390 px,
and an axe-core scan with no serious or critical violation. Waits are WebDriverWait conditions only."""
import os
import subprocess
import unittest

from axe_selenium_python import Axe
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from harness import SHOTS, Vfiod, browser, console_errors

WAIT = 30
VIEWS = ['host', 'groups', 'device/0000:01:00.0', 'reset/0000:01:00.0', 'assignments', 'operations', 'audit', 'activity']


class Page:
    """A signed-in (or not) browser tab on the dashboard."""

    def __init__(self, test, server, width=1280):
        self.test = test
        self.server = server
        self.driver = browser(width)
        self.wait = WebDriverWait(self.driver, WAIT)

    def close(self):
        """Quits the browser; after a failure, first keeps a screenshot and prints what the page showed."""
        outcome = getattr(self.test, '_outcome', None)
        if outcome is not None and not outcome.success:
            self.driver.save_screenshot(os.path.join(SHOTS, f'failure-{self.test._testMethodName}.png'))
            print('\npage errors:', self.driver.execute_script("return document.getElementById('errors')?.innerText"),
                  '\nhash:', self.driver.execute_script('return location.hash'),
                  '\nconsole:', [e['message'] for e in self.driver.get_log('browser')])
        self.driver.quit()

    def css(self, selector):
        return self.wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, selector)))

    def visible(self, selector):
        return self.wait.until(EC.visibility_of_element_located((By.CSS_SELECTOR, selector)))

    def clickable(self, selector):
        return self.wait.until(EC.element_to_be_clickable((By.CSS_SELECTOR, selector)))

    def sign_in(self, token):
        self.driver.get(self.server.url + '/')
        self.wait.until(EC.url_contains('/ui/'))
        field = self.visible('input[name=token]')
        field.send_keys(token)
        self.clickable('form.signin button[type=submit]').click()

    def go(self, view):
        self.driver.execute_script('location.hash = arguments[0]', '#/' + view)

    def attribute(self, selector, name):
        """The attribute `name` of the first element matching `selector`, once there, read in one step in
        the page: a live update that redraws the element between a find and a read cannot make it stale."""
        return self.wait.until(lambda d: d.execute_script(
            'const e = document.querySelector(arguments[0]); return e && e.getAttribute(arguments[1])', selector, name))

    def text_in(self, selector, text):
        self.wait.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, selector), text))

    def ready(self, view):
        """Waits until `view` is drawn: its heading exists and nothing says Loading."""
        self.go(view)
        self.wait.until(lambda d: d.execute_script(
            "const h = document.querySelector('main h1'); return h && !document.querySelector('main').textContent.startsWith('Loading')"))
        if view == 'groups':
            self.css('main[data-ready=groups] article.group')
        if view == 'audit':
            self.css('#verify-badge')
        if view.startswith('device/'):
            self.css('#ids-h')
        if view.startswith('reset/'):
            self.css('ul.tree')
        if view.startswith('operations/'):
            self.css('table.waterfall tr.step')


class DashboardTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Vfiod('gpu-server.json')
        cls.admin = cls.server.token('ui-admin', 'admin')
        cls.viewer = cls.server.token('ui-viewer', 'viewer')
        cls.server.start()
        os.makedirs(SHOTS, exist_ok=True)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    # Before the page's scripts: note when the event stream is open, and hold the answer to the next
    # assignments list (the server has already answered it) until the test lets it go.
    HOLD_THE_FIRST_LIST = """
        window.__streamOpen = false;
        const PageEventSource = window.EventSource;
        window.EventSource = class extends PageEventSource {
          constructor(...args) { super(...args); this.addEventListener('open', () => { window.__streamOpen = true; }); }
        };
        const pageFetch = window.fetch.bind(window);
        window.__holdList = false;
        window.fetch = async (...args) => {
          const response = await pageFetch(...args);
          const url = String(args[0] && args[0].url || args[0]);
          if (window.__holdList && /\/v1\/assignments(\?|$)/.test(url)) {
            window.__holdList = false;
            await new Promise((resolve) => { window.__releaseList = resolve; });
          }
          return response;
        };"""

    def test_a_change_made_while_a_view_first_reads_reaches_it(self):
        # The assignments view opens, its first list is read before a lease exists and answered after the
        # lease is active: the events of the lease, which came while the view was reading, must reach it.
        page = Page(self, self.server)
        self.addCleanup(page.close)
        page.driver.execute_cdp_cmd('Page.addScriptToEvaluateOnNewDocument', {'source': self.HOLD_THE_FIRST_LIST})
        page.sign_in(self.admin)
        page.css('main[data-ready=groups] article.group')
        page.wait.until(lambda driver: driver.execute_script('return window.__streamOpen === true'))
        page.driver.execute_script('window.__holdList = true')
        page.go('assignments')
        page.wait.until(lambda driver: driver.execute_script('return typeof window.__releaseList === "function"'))
        groups = self.server.api('/v1/groups?assignable=true&pageSize=100', self.admin)['items']
        lease, headers = self.server.api_full('/v1/assignments', self.admin, method='POST',
                                              body={'group': groups[-1]['id'], 'holder': {'id': 'vm-race', 'tenant': 't'}})
        operation = headers['Operation-Location'].rsplit('/', 1)[-1]
        self.assertEqual(self.server.api(f'/v1/operations/{operation}?wait=30', self.admin)['state'], 'succeeded')
        page.driver.execute_script('window.__releaseList()')
        page.css(f'article.assignment[data-assignment="{lease["id"]}"][data-state=active]')
        _, headers = self.server.api_full(f'/v1/assignments/{lease["id"]}', self.admin, method='DELETE')
        release = headers['Operation-Location'].rsplit('/', 1)[-1]
        self.assertEqual(self.server.api(f'/v1/operations/{release}?wait=30', self.admin)['state'], 'succeeded')

    def test_admin_leases_a_gpu_group_follows_it_live_releases_it_and_sees_the_chain_ok(self):
        page = Page(self, self.server)
        self.addCleanup(page.close)
        page.sign_in(self.admin)
        page.css('main[data-ready=groups] article.group')
        page.driver.execute_script('window.__sameDocument = true')
        page.clickable('input[type=checkbox][data-filter=gpus]').click()
        page.clickable('input[type=checkbox][data-filter=assignable]').click()
        lease = page.clickable('article.group button.primary')
        group = lease.find_element(By.XPATH, './ancestor::article').get_attribute('data-group')
        self.assertIn('NVIDIA', lease.find_element(By.XPATH, './ancestor::article').text)
        lease.click()
        page.visible('dialog[open] input[name=holder]').send_keys('vm-ui')
        page.driver.find_element(By.CSS_SELECTOR, 'dialog[open] input[name=tenant]').send_keys('team-ui')
        page.clickable('dialog[open] button[type=submit]').click()

        # The assignments view: the new lease goes binding → active without a reload.
        # (An earlier test may have leased and released the same group: its card is `released`.)
        assignment = page.attribute(f'article.assignment[data-group="{group}"]:not([data-state=released])', 'data-assignment')
        page.css(f'article.assignment[data-assignment="{assignment}"][data-state=active]')
        page.text_in(f'article.assignment[data-assignment="{assignment}"] .trail', 'binding → active')
        self.assertTrue(page.driver.execute_script('return window.__sameDocument === true'))
        page.text_in(f'article.assignment[data-assignment="{assignment}"] .countdown', 'left')

        # Its bind operation, step by step.
        page.clickable(f'article.assignment[data-assignment="{assignment}"] a[href^="#/operations/"]').click()
        page.css('table.waterfall tr.step')
        page.text_in('#op-h', 'succeeded')
        steps = page.driver.find_elements(By.CSS_SELECTOR, 'table.waterfall tr.step')
        self.assertGreaterEqual(len(steps), 2, 'a bind journals a step per write at least')

        # Release it (two presses: the button asks for confirmation), then follow the release.
        page.ready('assignments')
        release = f'article.assignment[data-assignment="{assignment}"] button.danger'
        page.clickable(release).click()
        page.text_in(release, 'Confirm')
        page.clickable(release).click()
        page.wait.until(EC.url_contains('#/operations/'))
        page.text_in('#op-h', 'succeeded')
        page.css('#rel-h')
        self.assertEqual(self.server.api(f'/v1/assignments/{assignment}', self.admin)['state'], 'released')

        # The assignment's operations, as the API lists them: its bind and its release.
        page.ready('assignments')
        page.clickable(f'article.assignment[data-assignment="{assignment}"] a.all-ops').click()
        page.css('main table tbody tr')
        kinds = [row.find_elements(By.TAG_NAME, 'td')[1].text for row in page.driver.find_elements(By.CSS_SELECTOR, 'main table tbody tr')]
        self.assertEqual(kinds, ['bind', 'release'])

        page.ready('audit')
        page.text_in('#verify-badge', 'chain ok')
        self.assertTrue(page.driver.execute_script('return window.__sameDocument === true'))
        self.assertEqual(console_errors(page.driver, allowed=self.allowed), [])

    def test_every_view_at_both_widths_screenshots_and_axe_finds_nothing_serious(self):
        # A live lease (a countdown, renew and release buttons) and its operation, made through the API.
        groups = self.server.api('/v1/groups?assignable=true&pageSize=100', self.admin)['items']
        _, headers = self.server.api_full('/v1/assignments', self.admin, method='POST',
                                          body={'group': groups[-1]['id'], 'holder': {'id': 'vm-shots', 'tenant': 't'}})
        operation = headers['Operation-Location'].rsplit('/', 1)[-1]
        self.server.api(f'/v1/operations/{operation}?wait=30', self.admin)
        for width in (1280, 390):
            page = Page(self, self.server, width)
            self.addCleanup(page.close)
            page.sign_in(self.admin)
            page.css('main[data-ready=groups]')
            for view in VIEWS + [f'operations/{operation}']:
                page.ready(view)
                name = view.split('/')[0] + ('-detail' if view.count('/') and view.startswith('operations') else '')
                page.driver.save_screenshot(os.path.join(SHOTS, f'{name}-{width}.png'))
                axe = Axe(page.driver)
                axe.inject()
                results = axe.run(options={'resultTypes': ['violations']})
                serious = [f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes'][:3]]}"
                           for v in results['violations'] if v['impact'] in ('serious', 'critical')]
                self.assertEqual(serious, [], f'{view} at {width} px')
                overflow = page.driver.execute_script('return document.documentElement.scrollWidth - window.innerWidth')
                self.assertLessEqual(overflow, 0, f'{view} at {width} px scrolls sideways')
            self.assertEqual(console_errors(page.driver, allowed=self.allowed), [])

    def test_a_viewer_is_offered_no_lease(self):
        page = Page(self, self.server)
        self.addCleanup(page.close)
        page.sign_in(self.viewer)
        page.css('main[data-ready=groups] article.group.assignable')
        self.assertEqual(page.driver.find_elements(By.CSS_SELECTOR, 'article.group button.primary'), [])
        self.assertIn('viewer', page.css('#who').text)
        self.assertFalse(page.css('#nav a[href="#/audit"]').is_displayed())
        self.assertEqual(console_errors(page.driver, allowed=self.allowed), [])

    def test_an_operator_leases_for_its_own_tenant_only_and_has_no_audit(self):
        token = self.server.token('ui-operator', 'operator', tenant='team-op')
        page = Page(self, self.server)
        self.addCleanup(page.close)
        page.sign_in(token)
        page.clickable('article.group button.primary').click()
        tenant = page.visible('dialog[open] input[name=tenant]')
        self.assertEqual(tenant.get_attribute('value'), 'team-op')
        self.assertTrue(tenant.get_attribute('readonly') is not None)
        page.clickable('dialog[open] button[type=button]').click()
        self.assertFalse(page.css('#nav a[href="#/audit"]').is_displayed())
        page.ready('device/0000:01:00.0')
        page.text_in('main', 'needs an auditor or admin token')
        self.assertEqual(console_errors(page.driver, allowed=self.allowed), [])

    def test_a_bad_token_lands_on_sign_in_with_the_reason(self):
        page = Page(self, self.server)
        self.addCleanup(page.close)
        page.sign_in('vfiod_not-a-token')
        page.text_in('#signin-error', 'unknown or revoked')
        self.assertIsNone(page.driver.execute_script("return sessionStorage.getItem('vfiod.token')"))
        # A token that stops working while the page is open (here: revoked) sends the user back too.
        self.server.token('ui-short', 'viewer')
        page.driver.find_element(By.CSS_SELECTOR, 'input[name=token]').send_keys(self.server.tokens['ui-short'])
        page.clickable('form.signin button[type=submit]').click()
        page.css('main[data-ready=groups]')
        self.server.api('/v1/tokens/ui-short', self.admin, method='DELETE')
        page.go('host')
        page.text_in('#signin-error', 'unknown or revoked')
        self.assertEqual(console_errors(page.driver, allowed=self.allowed + [r'/v1/whoami.*401', r'/v1/.*401']), [])

    def test_the_stream_drops_a_banner_shows_and_the_change_missed_meanwhile_arrives(self):
        page = Page(self, self.server)
        self.addCleanup(page.close)
        page.sign_in(self.admin)
        page.css('main[data-ready=groups]')
        page.ready('activity')
        page.text_in('main', 'Live from the event stream')
        page.driver.execute_script('window.__sameDocument = true')
        # Cut off: the browser goes offline (no new connection: the page cannot reconnect yet), and its open
        # connections to vfiod, the event stream's among them, are destroyed (ss -K, as root).
        page.driver.execute_cdp_cmd('Network.enable', {})
        page.driver.execute_cdp_cmd('Network.emulateNetworkConditions',
                                    {'offline': True, 'latency': 0, 'downloadThroughput': -1, 'uploadThroughput': -1})
        subprocess.run(['ss', '-K', 'dst', '127.0.0.1', 'dport', '=', str(self.server.port)], check=True, capture_output=True)
        page.visible('#banner')
        page.text_in('#banner', 'disconnected')
        # A lease made while the page is cut off (through the API, not the page).
        group = self.server.api('/v1/groups?assignable=true&pageSize=100', self.admin)['items'][-2]['id']
        created = self.server.api('/v1/assignments', self.admin, method='POST',
                                  body={'group': group, 'holder': {'id': 'vm-missed', 'tenant': 't'}})
        page.driver.execute_cdp_cmd('Network.emulateNetworkConditions',
                                    {'offline': False, 'latency': 0, 'downloadThroughput': -1, 'uploadThroughput': -1})
        page.wait.until(EC.invisibility_of_element_located((By.ID, 'banner')))
        page.text_in('ol.feed', created['id'])
        self.assertIn('since=', page.driver.execute_script(
            "return performance.getEntriesByType('resource').map((e) => e.name).filter((n) => n.includes('/v1/events?')).pop()"))
        self.assertTrue(page.driver.execute_script('return window.__sameDocument === true'))
        self.assertEqual(console_errors(page.driver, allowed=self.allowed + [r'ERR_INTERNET_DISCONNECTED', r'/v1/events']), [])

    def test_an_api_error_is_shown_with_its_title_and_detail(self):
        page = Page(self, self.server)
        self.addCleanup(page.close)
        page.sign_in(self.admin)
        page.css('main[data-ready=groups]')
        page.ready('audit')
        page.visible('input[name=since]').send_keys('yesterday')
        page.clickable('form.filters button[type=submit]').click()
        page.text_in('#errors', 'invalid_parameter')
        shown = page.css('#errors .error').text
        self.assertIn('since', shown)
        self.assertIn(' — ', shown, 'the title, then the detail')
        self.assertEqual(console_errors(page.driver, allowed=self.allowed + [r'/v1/audit\?.* 400']), [])

    # The network errors Chromium logs for answers a test provokes on purpose (none by default).
    allowed = []


if __name__ == '__main__':
    unittest.main(verbosity=2)
