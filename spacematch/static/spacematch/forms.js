/* Error summary: focus moves to it when the page loads, and each of its links puts the focus in
 * the field it names (an in-page link alone only scrolls), with the field's label in view. */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.querySelector("[data-focus-on-load]");
    if (summary) summary.focus();
    document.querySelectorAll(".sm-error-summary a[href^='#']").forEach(function (link) {
      link.addEventListener("click", function (event) {
        var target = document.getElementById(link.getAttribute("href").slice(1));
        if (!target) return;
        event.preventDefault();
        var holder = target.closest(".utrecht-form-field, fieldset") || target;
        holder.scrollIntoView({block: "start"});
        target.focus({preventScroll: true});
      });
    });
    document.querySelectorAll("[data-copy]").forEach(function (button) {
      var source = document.getElementById(button.dataset.copy);
      var status = document.getElementById(button.dataset.copyStatus);
      button.hidden = false;
      button.addEventListener("click", function () {
        var text = source.value || source.textContent;
        var done = function () { if (status) status.textContent = button.dataset.copied; };
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(text).then(done, function () { source.select(); });
        } else {
          source.select();
          try { document.execCommand("copy"); done(); } catch (e) { /* the text is selected */ }
        }
      });
    });
  });
})();
