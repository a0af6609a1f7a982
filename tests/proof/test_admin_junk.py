"""One Chromium pass over every Django admin add form, filled with junk (issue 15).

Every "Add" link on the admin index is followed; every field of the form is given a value
the model cannot take (over-long text, text in number and date fields, broken JSON, JSON of
the wrong type, a choice that does not exist), the browser's own checks are switched off so
the server sees it all, and the form is saved. Each must come back as the same form with a
message saying what was wrong: never a 500, never a traceback in Daphne's log, and nothing
stored.
"""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD, login, screenshot

# Junk by the kind of widget, in rotation, so each form sees several kinds of wrong.
JUNK_TEXT = ["x" * 5000, "💥" * 400 + "<script>alert(1)</script>", "9" * 400]
JUNK_NUMBER = ["NaN", "1e400", "-99999999999999999999999", "twelve"]
JUNK_DATE = ["2026-13-45", "yesterday", "99999-01-01"]
JUNK_JSON = ["{not json", "true", "[1, {", "9" * 5000, '"a string"', "[[[[[[[[[[[["]

FILL = """
([text, number, date, json, i]) => {
  const form = document.querySelector('#content-main form');
  form.noValidate = true;
  const pick = (list, n) => list[n % list.length];
  const JSON_NAMES = /json|matchers|labels|queries|options|thresholds|actuators|weekdays|data/i;
  const DATE_NAMES = /date|time|_at|_from|_until|day/i;
  let n = i;
  for (const el of form.querySelectorAll('input, textarea, select')) {
    if (el.type === 'hidden' || el.type === 'submit' || el.type === 'file' || !el.name) continue;
    n += 1;
    el.removeAttribute('required');
    el.removeAttribute('maxlength');
    if (el.tagName === 'SELECT') {
      const bogus = document.createElement('option');
      bogus.value = '999999999';
      bogus.textContent = 'bogus';
      el.appendChild(bogus);
      el.value = '999999999';
      continue;
    }
    if (el.type === 'checkbox') { el.checked = !el.checked; continue; }
    const kind = el.type;
    const isJson = el.tagName === 'TEXTAREA' && JSON_NAMES.test(el.name);
    if (el.tagName === 'INPUT') el.type = 'text';
    if (isJson) el.value = pick(json, n);
    else if (kind === 'number') el.value = pick(number, n);
    else if (DATE_NAMES.test(el.name) || kind === 'date') el.value = pick(date, n);
    else el.value = pick(text, n);
  }
  return form.querySelectorAll('input, textarea, select').length;
}
"""


def _add_links(page, base_url: str) -> list[str]:
    page.goto(f"{base_url}/admin/")
    hrefs = page.eval_on_selector_all("a.addlink", "all => all.map(a => a.getAttribute('href'))")
    return sorted({h for h in hrefs if h and h.endswith("/add/")})


def _counts() -> dict[str, int]:
    from django.contrib import admin

    return {f"{m._meta.label}": m._default_manager.count() for m in admin.site._registry}


@pytest.fixture(scope="module")
def admin_daphne(start_daphne):
    # Its own process, so its log holds this pass alone.
    return start_daphne({"LOG_LEVEL": "WARNING"})


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.timeout(900)  # ~30 forms, each loaded and saved in Chromium
@pytest.mark.django_db(transaction=True)
def test_every_admin_add_form_refuses_junk_with_a_message(admin_daphne, page):
    daphne = admin_daphne
    from django.contrib.auth.models import User

    User.objects.create_superuser("junk-admin", "junk@example.com", PASSWORD)
    login(page, daphne.url, "junk-admin")
    links = _add_links(page, daphne.url)
    assert len(links) >= 10, links  # not vacuous: the admin's models are all there
    before = _counts()
    refused, problems = [], []
    for i, link in enumerate(links):
        page.goto(f"{daphne.url}{link}")
        if page.locator("#content-main form").count() == 0:
            problems.append(f"{link}: no add form")
            continue
        page.evaluate(FILL, [JUNK_TEXT, JUNK_NUMBER, JUNK_DATE, JUNK_JSON, i])
        with page.expect_navigation() as nav:
            page.locator('#content-main form input[name="_save"]').click()
        status = nav.value.status if nav.value else None
        if status is None or status >= 500:
            problems.append(f"{link}: HTTP {status}")
            screenshot(page, f"admin-junk-{i}")
            continue
        message = page.locator(".errornote, .errorlist").count()
        if not message or "/add/" not in page.url:
            problems.append(f"{link}: junk accepted or no message (now at {page.url})")
            screenshot(page, f"admin-junk-{i}")
            continue
        refused.append(link)
    assert not problems, "\n".join(problems)
    assert _counts() == before, "a refused add form stored something"
    log = daphne.output()
    assert "Traceback" not in log, log[-4000:]
    assert len(refused) == len(links)
