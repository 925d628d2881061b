/* Cartera: progressive enhancements. Every page works without this file. */
(function () {
  "use strict";

  function debounce(fn, ms) {
    let timer;
    return function (...args) {
      clearTimeout(timer);
      timer = setTimeout(() => fn.apply(this, args), ms);
    };
  }

  // Formsets: add rows from the <template>, grey out rows marked for removal.
  function setupFormsets(root) {
    root.querySelectorAll("[data-formset]").forEach((box) => {
      const prefix = box.dataset.formset;
      const total = box.querySelector(`input[name="${prefix}-TOTAL_FORMS"]`);
      const rows = box.querySelector(".formset-rows");
      const template = box.querySelector("template[data-empty-form]");
      const add = box.querySelector("[data-formset-add]");
      if (!total || !rows || !template || !add) return;
      add.addEventListener("click", () => {
        const index = parseInt(total.value, 10);
        const html = template.innerHTML.replace(/__prefix__/g, String(index));
        rows.insertAdjacentHTML("beforeend", html);
        total.value = String(index + 1);
        const row = rows.lastElementChild;
        setupRegionPickers(row);
        const first = row.querySelector("input:not([type=hidden]), select");
        if (first) first.focus();
      });
      box.addEventListener("change", (event) => {
        const input = event.target;
        if (input.name && input.name.endsWith("-DELETE")) {
          input.closest(".formset-row").classList.toggle("removed", input.checked);
        }
      });
    });
  }

  // Region pickers follow the chosen country.
  function setupRegionPickers(root) {
    const form = document.querySelector("[data-regions-url]");
    if (!form) return;
    root.querySelectorAll("select[data-region-for]").forEach((region) => {
      const country = document.querySelector(`[name="${region.dataset.regionFor}"]`);
      if (!country || country.dataset.bound) return;
      country.dataset.bound = "1";
      country.addEventListener("change", async () => {
        const url = `${form.dataset.regionsUrl}?country=${encodeURIComponent(country.value)}`;
        const response = await fetch(url, { credentials: "same-origin" });
        if (!response.ok) return;
        const data = await response.json();
        region.replaceChildren(new Option("—", ""));
        data.regions.forEach(([code, name]) => region.add(new Option(name, code)));
      });
    });
  }

  // The customer form: person/organisation fields, and what a tax id implies.
  function setupCustomerForm() {
    const form = document.querySelector("form.customer-form");
    if (!form) return;
    const kindInputs = form.querySelectorAll('input[name="kind"]');
    const personOnly = form.querySelectorAll(".person-only");
    const showKind = () => {
      const checked = form.querySelector('input[name="kind"]:checked');
      const isPerson = checked && checked.value === "person";
      personOnly.forEach((el) => { el.hidden = !isPerson; });
    };
    kindInputs.forEach((input) => input.addEventListener("change", showKind));
    showKind();

    const taxId = form.querySelector('input[name="tax_id"]');
    const country = form.querySelector('select[name="tax_country"]');
    const feedback = form.querySelector("#tax-id-feedback");
    if (!taxId || !feedback) return;
    const messages = feedback.dataset;

    const setSelect = (name, value) => {
      const select = form.querySelector(`select[name="${name}"]`);
      if (select && value !== null && value !== undefined && select.value === "") {
        select.value = String(value);
        select.dispatchEvent(new Event("change", { bubbles: true }));
      }
    };

    const check = debounce(async () => {
      const value = taxId.value.trim();
      feedback.className = "feedback";
      feedback.textContent = "";
      if (value.length < 3) return;
      const params = new URLSearchParams({ value, country: country ? country.value : "" });
      if (form.dataset.customerId) params.set("exclude", form.dataset.customerId);
      const response = await fetch(`${form.dataset.taxCheckUrl}?${params}`, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      if (!response.ok) return;
      const result = await response.json();
      if (taxId.value.trim() !== value) return; // the user kept typing
      if (!result.valid) {
        feedback.className = "feedback bad";
        feedback.textContent = result.reason;
        taxId.setAttribute("aria-invalid", "true");
        return;
      }
      taxId.setAttribute("aria-invalid", "false");
      feedback.className = "feedback ok";
      feedback.textContent = (messages.valid || "✓ %s").replace("%s", `${result.type_label} ${result.formatted}`);
      if (result.duplicate_of) {
        feedback.className = "feedback bad";
        feedback.textContent = (messages.duplicate || "%s").replace("%s", result.duplicate_of.code) + " ";
        if (result.duplicate_of.url) {
          const link = document.createElement("a");
          link.href = result.duplicate_of.url;
          link.textContent = messages.open || "→";
          feedback.appendChild(link);
        }
      }
      if (country && result.country && country.value !== result.country) {
        country.value = result.country;
      }
      if (result.kind) {
        const radio = form.querySelector(`input[name="kind"][value="${result.kind}"]`);
        if (radio && !radio.checked) {
          radio.checked = true;
          showKind();
        }
      }
      setSelect("legal_form", result.legal_form_id);
      setSelect("fiscal_type", result.fiscal_type_id);
      const fiscalCountry = form.querySelector('select[name$="country"][name^="fiscal"], select[name="addresses-0-country"]');
      if (fiscalCountry && result.country && fiscalCountry.value !== result.country && !form.dataset.customerId) {
        fiscalCountry.value = result.country;
        fiscalCountry.dispatchEvent(new Event("change", { bubbles: true }));
      }
    }, 350);
    taxId.addEventListener("input", check);
    if (country) country.addEventListener("change", check);
    if (taxId.value) check();
  }

  // Forms that ask before doing something with consequences.
  function setupConfirm() {
    document.querySelectorAll("form[data-confirm]").forEach((form) => {
      form.addEventListener("submit", (event) => {
        if (!window.confirm(form.dataset.confirm)) event.preventDefault();
      });
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    setupFormsets(document);
    setupRegionPickers(document);
    setupCustomerForm();
    setupConfirm();
  });
})();
