"""The operator console and the API docs in a real headless Chromium, with no network but this
machine's: the dashboard with data, an action on an instance and on a subscription, the audit
entries they leave, and Swagger UI / ReDoc rendering from the deployment's own static files."""

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from paas.models import AuditEntry
from pods import services as pods
from pods.models import ServiceInstance
from subscriptions.models import Subscription
from subscriptions.tests.factories import buy

pytestmark = pytest.mark.django_db(transaction=True)


def _log_in(browser, live_server, user) -> WebDriverWait:
    wait = WebDriverWait(browser, 15)
    browser.delete_all_cookies()
    browser.get(f"{live_server.url}/admin/login/")
    browser.find_element(By.NAME, "username").send_keys(user.email)
    browser.find_element(By.NAME, "password").send_keys(DEFAULT_PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    wait.until(ec.presence_of_element_located((By.ID, "dashboard")))
    return wait


def _tile(browser, name: str) -> str:
    return browser.find_element(By.CSS_SELECTOR, f'a[data-tile="{name}"] .value').text


def _run_action(browser, wait, changelist_url: str, row_text: str, action: str) -> None:
    browser.get(changelist_url)
    row = next(r for r in browser.find_elements(By.CSS_SELECTOR, "#result_list tbody tr") if row_text in r.text)
    row.find_element(By.CSS_SELECTOR, "input.action-select").click()
    Select(browser.find_element(By.NAME, "action")).select_by_value(action)
    browser.find_element(By.NAME, "index").click()


def _messages(browser, wait) -> str:
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "ul.messagelist")))
    return browser.find_element(By.CSS_SELECTOR, "ul.messagelist").text


def test_operator_sees_the_dashboard_acts_and_finds_the_audit_entries(
    browser, live_server, admin_user, cluster, screenshot
):
    customer = UserFactory(email="customer@example.com", name="Customer")
    subscription = buy(customer, name="shop-automation")
    buy(UserFactory(), service="ghost", plan="starter")
    pods.reconcile(subscription.instance_id)
    cluster.tick()
    pods.reconcile(subscription.instance_id)
    instance = ServiceInstance.objects.get(pk=subscription.instance_id)
    assert instance.status == ServiceInstance.Status.RUNNING

    wait = _log_in(browser, live_server, admin_user)
    assert _tile(browser, "Subscriptions: Active") == "2"
    assert _tile(browser, "Nodes: Ready") == "3"
    # Money reads as operators read it: two purchases charged today.
    assert _tile(browser, "Money today: Revenue").startswith("Rp ")
    screenshot("dashboard")
    # Every number is a link to the list it counts.
    browser.find_element(By.CSS_SELECTOR, 'a[data-tile="Subscriptions: Active"]').click()
    wait.until(ec.presence_of_element_located((By.ID, "result_list")))
    assert len(browser.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")) == 2

    # An instance action.
    _run_action(browser, wait, f"{live_server.url}/admin/pods/serviceinstance/", "shop-automation", "stop")
    assert "1 service instance" in _messages(browser, wait)
    instance.refresh_from_db()
    assert instance.desired_state == ServiceInstance.DesiredState.STOPPED

    # A subscription action that asks for a reason and a number of days on its own page.
    period_end = subscription.current_period_end
    _run_action(browser, wait, f"{live_server.url}/admin/subscriptions/subscription/", "shop-automation", "extend")
    browser.find_element(By.NAME, "reason").send_keys("Outage on 28 November, goodwill")
    browser.find_element(By.NAME, "days").send_keys("3")
    browser.find_element(By.CSS_SELECTOR, "form input[type=submit]").click()
    assert "1 subscription extended." in _messages(browser, wait)
    subscription.refresh_from_db()
    assert (subscription.current_period_end - period_end).days == 3

    # Both actions are in the audit trail, with who, why, before and after, and cannot be edited.
    browser.get(f"{live_server.url}/admin/paas/auditentry/")
    audit_text = browser.find_element(By.ID, "result_list").text
    assert "subscription.extend" in audit_text and "Outage on 28 November, goodwill" in audit_text
    assert "instance.stop" in audit_text
    entry = AuditEntry.objects.get(action="subscription.extend")
    assert entry.actor == admin_user and entry.target_id == str(subscription.pk)
    assert entry.before["current_period_end"] != entry.after["current_period_end"]
    browser.get(f"{live_server.url}/admin/paas/auditentry/{entry.pk}/change/")
    page = browser.find_element(By.ID, "content").text
    assert "Outage on 28 November, goodwill" in page
    changed = browser.find_element(By.CSS_SELECTOR, ".field-changes table").text
    assert "current_period_end" in changed and "status" not in changed
    assert not browser.find_elements(By.CSS_SELECTOR, "input[name=_save]")
    screenshot("audit-entry")
    assert Subscription.objects.get(pk=subscription.pk).status == Subscription.Status.ACTIVE


def _only_this_server_was_asked(browser, live_server) -> list[str]:
    urls = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    return [url for url in urls if not url.startswith(live_server.url)]


def test_swagger_ui_lists_the_operations_with_no_network(browser, live_server, screenshot):
    browser.get(f"{live_server.url}/api/docs/")
    wait = WebDriverWait(browser, 20)
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".opblock")))
    paths = {e.text for e in browser.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")}
    assert {"/api/v1/auth/login", "/api/v1/subscriptions", "/api/v1/billing/topups"} <= paths
    assert _only_this_server_was_asked(browser, live_server) == []
    screenshot("swagger-ui")


def test_redoc_lists_the_operations_with_no_network(browser, live_server, client, screenshot):
    browser.get(f"{live_server.url}/api/redoc/")
    wait = WebDriverWait(browser, 20)
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "[data-section-id^='operation/']")))
    assert len(browser.find_elements(By.CSS_SELECTOR, "[data-section-id^='operation/']")) > 20
    # ReDoc's bundle hard-codes its vendor's logo; the page's policy keeps the browser from
    # fetching it (and anything else not served here).
    assert set(_only_this_server_was_asked(browser, live_server)) <= {"https://cdn.redoc.ly/redoc/logo-mini.svg"}
    policy = client.get("/api/redoc/")["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "img-src 'self' data:" in policy
    screenshot("redoc")
