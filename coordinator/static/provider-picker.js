// Provider boxes: a <select data-provider-search="/providers/search?..."> (a real select the
// server renders, grouped by kind, which works without scripts) becomes a search box (the
// vendored Tom Select) that asks the directory for what is typed: name, kind or town, with or
// without accents. The select stays the form's field: the form posts its value as before.
(function () {
  "use strict";
  if (typeof TomSelect === "undefined") {
    return;
  }
  // The texts are the server's, translated: attributes of the select (providers/picking.py).
  function texts(select) {
    return {
      none: select.getAttribute("data-provider-none") || "",
      loading: select.getAttribute("data-provider-loading") || "",
      placeholder: select.getAttribute("data-provider-placeholder") || "",
      clear: select.getAttribute("data-provider-clear") || ""
    };
  }
  function enhance(select) {
    var url = select.getAttribute("data-provider-search");
    var found = { query: null, ids: {} };
    var words = texts(select);
    var box = new TomSelect(select, {
      valueField: "value",
      labelField: "text",
      searchField: ["text"],
      optgroupField: "optgroup",
      // The blank choice ("—") is the empty box showing its placeholder; the cross empties it.
      allowEmptyOption: false,
      plugins: { clear_button: { title: words.clear } },
      // Out of the form's tables, whose scrolling would cut the list.
      dropdownParent: "body",
      maxOptions: 100,
      loadThrottle: 250,
      placeholder: words.placeholder,
      shouldLoad: function (query) { return query.trim().length > 0; },
      // What the server found for the query is shown, whatever the words matched (a town
      // typed without its accents, a kind); the options already there are filtered as usual.
      score: function (query) {
        var base = this.getScoreFunction(query);
        return function (item) {
          var own = base(item);
          return found.query === query && found.ids[item.value] ? Math.max(own, 1) : own;
        };
      },
      load: function (query, callback) {
        var separator = url.indexOf("?") === -1 ? "?" : "&";
        fetch(url + separator + "q=" + encodeURIComponent(query),
              { credentials: "same-origin", headers: { "Accept": "application/json" } })
          .then(function (response) { return response.ok ? response.json() : { results: [] }; })
          .then(function (data) {
            var ids = {};
            var options = (data.results || []).map(function (row) {
              var value = String(row.id);
              ids[value] = true;
              if (row.group && !box.optgroups[row.group]) {
                box.addOptionGroup(row.group, { value: row.group, label: row.group });
              }
              return box.options[value] ? null : { value: value, text: row.label, optgroup: row.group };
            }).filter(Boolean);
            found = { query: query, ids: ids };
            callback(options);
          })
          .catch(function () { callback(); });
      },
      render: {
        no_results: function () {
          var div = document.createElement("div");
          div.className = "no-results";
          div.textContent = words.none;
          return div;
        },
        loading: function () {
          var div = document.createElement("div");
          div.className = "spinner";
          div.setAttribute("aria-label", words.loading);
          return div;
        }
      }
    });
    return box;
  }
  document.querySelectorAll("select[data-provider-search]").forEach(enhance);
})();
