"""The review page (GET /, issue #15) in a real headless Chromium against the real daemon: results
appear live as files are dropped, confirm and correct store feedback, feedback from elsewhere
updates a row, filters and paging work, the token prompt works, a hostile file name stays text,
and the page runs under its Content-Security-Policy without a violation. A screenshot after the
first scenario is saved as <build dir>/artifacts/review-page.png."""
import json
import os
import shutil
import urllib.error
import urllib.request

import pytest

import review_browser
from conftest import label_of
from daemon import Daemon

TOKEN = "review-t0ken"
HOSTILE = "<img src=x onerror=alert(1)>.png"
WAIT_S = 60


@pytest.fixture
def browser():
    why = review_browser.missing()
    if why:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the browser tests: {why}")
        pytest.skip(why)
    driver = review_browser.start()
    yield driver
    driver.quit()


def call(d, method, path, body=None, token=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(d.url + path, data=data, method=method)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def wait(driver, condition, what):
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        return WebDriverWait(driver, WAIT_S, poll_frequency=0.05).until(lambda drv: condition())
    except Exception as e:
        raise AssertionError(f"timed out waiting for {what}; page rows: {row_texts(driver)}; "
                             f"console: {console(driver)}") from e


def console(driver):
    return [entry["message"] for entry in driver.get_log("browser")]


def row(driver, path):
    """The <tr> whose path cell shows exactly `path`, or None."""
    return driver.execute_script(
        "return [...document.querySelectorAll('#rows tr')]"
        ".find(tr => tr.querySelector('.path').textContent === arguments[0]) || null", path)


def row_texts(driver):
    return driver.execute_script(
        "return [...document.querySelectorAll('#rows tr .path')].map(td => td.textContent)")


def cell(tr, name):
    from selenium.webdriver.common.by import By

    return tr.find_element(By.CSS_SELECTOR, f"td.{name}").text


def open_page(driver, d, expect="live"):
    driver.get(d.url + "/")
    wait(driver, lambda: driver.find_element("id", "connection").get_attribute("data-state") == expect,
         f"the page to be {expect}")


def drop(d, sample, name):
    dest = d.share / name
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(sample, dest)


def thumbnail_shown(driver, path):
    return driver.execute_script(
        "const tr = [...document.querySelectorAll('#rows tr')]"
        ".find(tr => tr.querySelector('.path').textContent === arguments[0]);"
        "const img = tr && tr.querySelector('img.thumb');"
        "return Boolean(img && img.complete && img.naturalWidth > 0 && img.src.startsWith('blob:'))",
        path)


def press(driver, keys):
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(driver).send_keys(keys).perform()


def assert_no_violations(driver):
    bad = [m for m in console(driver) if "Content Security Policy" in m or "Uncaught" in m]
    assert not bad, bad


def stored_feedback(d, rid, token=None):
    code, body = call(d, "GET", f"/v1/results/{rid}", token=token)
    assert code == 200, body
    return body.get("feedback")


def test_live_results_feedback_and_hostile_name(tmp_path, samples, browser):
    d = Daemon(tmp_path).start()
    try:
        open_page(browser, d)
        assert row_texts(browser) == []
        by_label = {label_of(s): s for s in samples}
        names = {"alice/circle.png": by_label["circle"], "alice/square.png": by_label["rectangle"],
                 "bob/triangle.png": by_label["triangle"], HOSTILE: by_label["hexagon"]}
        for name, sample in names.items():
            drop(d, sample, name)
        # Live: no reload, the rows arrive over the stream.
        wait(browser, lambda: set(names) <= set(row_texts(browser)), "the dropped files' rows")
        current = d.wait_for_paths(names)

        # The hostile name is text in its cell, never markup: no <img src=x>, no alert.
        hostile = row(browser, HOSTILE)
        assert cell(hostile, "path") == HOSTILE
        assert browser.execute_script("return document.querySelectorAll('img[src=\"x\"]').length") == 0
        from selenium.common.exceptions import NoAlertPresentException
        with pytest.raises(NoAlertPresentException):
            browser.switch_to.alert.text

        # Each row shows the result's label, version and a thumbnail.
        for name, result in current.items():
            tr = row(browser, name)
            assert cell(tr, "label") == result["predictions"][0]["label"]
            assert cell(tr, "version") == result["model"]["version"]
            assert cell(tr, "feedback") == "—"
        wait(browser, lambda: all(thumbnail_shown(browser, n) for n in names), "the thumbnails")

        labels = call(d, "GET", "/v1/model")[1]["labels"]

        # One click confirms.
        circle = current["alice/circle.png"]
        row(browser, "alice/circle.png").find_element("css selector", "button.confirm").click()
        wait(browser, lambda: (stored_feedback(d, circle["id"]) or {}).get("label")
             == circle["predictions"][0]["label"], "the confirmation stored")
        wait(browser, lambda: cell(row(browser, "alice/circle.png"), "feedback").startswith("✓ confirmed"),
             "the row to show the confirmation")

        # The label picker corrects.
        from selenium.webdriver.support.ui import Select
        square = current["alice/square.png"]
        other = next(label for label in labels if label != square["predictions"][0]["label"])
        Select(row(browser, "alice/square.png").find_element("css selector", "select.picker")) \
            .select_by_value(other)
        wait(browser, lambda: (stored_feedback(d, square["id"]) or {}).get("label") == other,
             "the correction stored")
        wait(browser, lambda: cell(row(browser, "alice/square.png"), "feedback").startswith(f"✎ {other}"),
             "the row to show the correction")

        # Keyboard: select the triangle's row with j/k, a digit corrects, c confirms.
        triangle = current["bob/triangle.png"]
        order = row_texts(browser)
        press(browser, "\ue00c\ue00c")  # Escape leaves the picker, then clears the selection
        press(browser, "j" * (order.index("bob/triangle.png") + 1))
        assert row(browser, "bob/triangle.png").get_attribute("aria-current") == "true"
        press(browser, "3")
        wait(browser, lambda: (stored_feedback(d, triangle["id"]) or {}).get("label") == labels[2],
             "the digit's correction stored")
        press(browser, "c")
        wait(browser, lambda: (stored_feedback(d, triangle["id"]) or {}).get("history_count") == 2,
             "the keyboard confirmation stored")
        assert stored_feedback(d, triangle["id"])["label"] == triangle["predictions"][0]["label"]

        # Feedback given elsewhere (a CAD plug-in) reaches the row over the stream.
        hexagon = current[HOSTILE]
        code, _ = call(d, "POST", f"/v1/results/{hexagon['id']}/feedback",
                       {"label": labels[0] if labels[0] != hexagon["predictions"][0]["label"] else labels[1],
                        "user": "plug-in"})
        assert code == 200
        wait(browser, lambda: "by plug-in" in cell(row(browser, HOSTILE), "feedback"),
             "the stream's feedback event on the row")

        # The help dialog opens with ?.
        press(browser, "?")
        assert browser.find_element("id", "help-dialog").is_displayed()
        press(browser, "\ue00c")

        assert_no_violations(browser)
        shot = review_browser.artifacts_dir() / "review-page.png"
        assert browser.save_screenshot(str(shot)), shot
    finally:
        d.kill()


def test_filters_and_paging(tmp_path, samples, browser):
    d = Daemon(tmp_path).start()
    try:
        by_label = {label_of(s): s for s in samples}
        names = {"alice/c1.png": by_label["circle"], "alice/t1.png": by_label["triangle"],
                 "bob/c2.png": by_label["circle"], "bob/r1.png": by_label["rectangle"]}
        for name, sample in names.items():
            drop(d, sample, name)
        (d.share / "broken.png").write_bytes(b"not an image")
        # 60 more: more than a page (50 rows).
        for i in range(60):
            drop(d, by_label["arrow"], f"bulk/a{i:02}.png")
        everything = d.wait_for_paths([*names, "broken.png", *(f"bulk/a{i:02}.png" for i in range(60))])

        open_page(browser, d)
        # Paging: at most 50 rows in the DOM; "Older" shows the rest.
        wait(browser, lambda: len(row_texts(browser)) == 50, "a full first page")
        first_page = set(row_texts(browser))
        browser.find_element("id", "older").click()
        wait(browser, lambda: len(row_texts(browser)) == 15, "the second page")
        assert first_page.isdisjoint(row_texts(browser))
        assert first_page | set(row_texts(browser)) == set(everything)
        browser.find_element("id", "newest").click()
        wait(browser, lambda: set(row_texts(browser)) == first_page, "the newest page again")

        def shows(expected, what):
            wait(browser, lambda: sorted(row_texts(browser)) == sorted(expected), what)

        # Path prefix (sent to the server; / focuses it).
        press(browser, "/")
        assert browser.switch_to.active_element.get_attribute("id") == "f-path"
        browser.switch_to.active_element.send_keys("alice/")
        shows(["alice/c1.png", "alice/t1.png"], "the path prefix filter")
        browser.find_element("id", "f-path").clear()
        browser.find_element("id", "f-path").send_keys("\ue007")  # Enter: apply now

        from selenium.webdriver.support.ui import Select
        Select(browser.find_element("id", "f-status")).select_by_value("error")
        shows(["broken.png"], "the status filter")
        Select(browser.find_element("id", "f-status")).select_by_value("")

        circles = [n for n, r in everything.items()
                   if r["status"] == "ok" and r["predictions"][0]["label"] == "circle"]
        assert {"alice/c1.png", "bob/c2.png"} <= set(circles)
        wait(browser, lambda: "circle" in [o.get_attribute("value") for o in
                                           Select(browser.find_element("id", "f-label")).options],
             "the label filter's options")
        Select(browser.find_element("id", "f-label")).select_by_value("circle")
        shows(circles, "the label filter")
        Select(browser.find_element("id", "f-label")).select_by_value("")

        version = everything["alice/c1.png"]["model"]["version"]
        Select(browser.find_element("id", "f-version")).select_by_value(version)
        wait(browser, lambda: len(row_texts(browser)) == 50, "the version filter")
        Select(browser.find_element("id", "f-version")).select_by_value("")

        # Has feedback: none yet, then the one given (over REST) shows.
        Select(browser.find_element("id", "f-feedback")).select_by_value("yes")
        shows([], "no feedback yet")
        bob = everything["bob/r1.png"]
        code, _ = call(d, "POST", f"/v1/results/{bob['id']}/feedback",
                       {"label": bob["predictions"][0]["label"], "user": "carol"})
        assert code == 200
        shows(["bob/r1.png"], "the feedback filter after feedback arrived")
        Select(browser.find_element("id", "f-feedback")).select_by_value("no")
        wait(browser, lambda: len(row_texts(browser)) == 50 and "bob/r1.png" not in row_texts(browser),
             "the no-feedback filter")
        assert_no_violations(browser)
    finally:
        d.kill()


def test_token_prompt(tmp_path, samples, browser):
    token = tmp_path / "token"
    token.write_text(TOKEN + "\n")
    d = Daemon(tmp_path, server_config=f'[server]\nlisten = "127.0.0.1:0"\ntoken_file = "{token}"\n').start()
    try:
        drop(d, samples[0], "before.png")
        d.wait_for_paths(["before.png"])
        open_page(browser, d, expect="locked")
        dialog = browser.find_element("id", "token-dialog")
        assert dialog.is_displayed()
        assert row_texts(browser) == []

        field = browser.find_element("id", "token-input")
        field.send_keys("wrong\ue007")
        error = browser.find_element("id", "token-error")
        wait(browser, lambda: error.is_displayed(), "the refusal of a wrong token")
        assert "refused" in error.text
        assert dialog.is_displayed()

        field.clear()
        field.send_keys(TOKEN + "\ue007")
        wait(browser, lambda: not dialog.is_displayed(), "the dialog to close")
        wait(browser, lambda: browser.find_element("id", "connection").get_attribute("data-state") == "live",
             "the stream with the token")
        wait(browser, lambda: "before.png" in row_texts(browser), "the stored result")
        drop(d, samples[1], "after.png")
        wait(browser, lambda: "after.png" in row_texts(browser), "a live result with the token")
        wait(browser, lambda: thumbnail_shown(browser, "after.png"), "a thumbnail fetched with the token")

        # Kept for the tab: a reload does not ask again.
        assert browser.execute_script("return sessionStorage.getItem('inferwatch.token')") == TOKEN
        browser.refresh()
        wait(browser, lambda: browser.find_element("id", "connection").get_attribute("data-state") == "live",
             "the page after a reload")
        assert not browser.find_element("id", "token-dialog").is_displayed()

        result = d.current()["after.png"]
        row(browser, "after.png").find_element("css selector", "button.confirm").click()
        wait(browser, lambda: (stored_feedback(d, result["id"], TOKEN) or {}).get("label")
             == result["predictions"][0]["label"], "feedback sent with the token")
        assert_no_violations(browser)
    finally:
        d.kill()
