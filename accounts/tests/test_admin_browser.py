"""The operator console in a real headless Chromium: log in, find a user, deactivate them."""

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_operator_logs_in_searches_and_deactivates_a_user(browser, live_server, admin_user):
    target = UserFactory(email="suspicious@example.com", name="Suspicious")
    UserFactory(email="bystander@example.com")
    wait = WebDriverWait(browser, 10)

    browser.get(f"{live_server.url}/admin/login/")
    browser.find_element(By.NAME, "username").send_keys(admin_user.email)
    browser.find_element(By.NAME, "password").send_keys(DEFAULT_PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    wait.until(ec.presence_of_element_located((By.ID, "site-name")))
    assert "PaaS operator console" in browser.page_source

    browser.get(f"{live_server.url}/admin/accounts/user/?q=suspicious")
    rows = browser.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")
    assert len(rows) == 1 and "suspicious@example.com" in rows[0].text

    rows[0].find_element(By.CSS_SELECTOR, "input.action-select").click()
    Select(browser.find_element(By.NAME, "action")).select_by_value("deactivate_users")
    browser.find_element(By.NAME, "index").click()
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "ul.messagelist")))
    assert "1 user deactivated." in browser.find_element(By.CSS_SELECTOR, "ul.messagelist").text

    target.refresh_from_db()
    assert target.is_active is False
    assert User.objects.get(email="bystander@example.com").is_active is True


def test_a_customer_is_refused_by_the_console(browser, live_server, user):
    browser.delete_all_cookies()
    browser.get(f"{live_server.url}/admin/login/")
    browser.find_element(By.NAME, "username").send_keys(user.email)
    browser.find_element(By.NAME, "password").send_keys(DEFAULT_PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    error = browser.find_element(By.CSS_SELECTOR, ".errornote")
    assert "staff account" in error.text
