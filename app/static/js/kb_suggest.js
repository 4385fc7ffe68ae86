// Live knowledge-base suggestions beside the intake form: what the agent types in 标题 and 诉求内容 asks
// /kb/suggest.json (debounced); Alt+↓/↑ choose, F2 inserts the chosen answer into 答复内容, switches the
// intake to 当场答复 and remembers which article answered (recorded with the ticket).
(function () {
  "use strict";
  const panel = document.querySelector("[data-kb-suggest]");
  if (!panel) return;
  const list = panel.querySelector("[data-kb-list]");
  const sources = ["#f-subject", "#f-content"].map((s) => document.querySelector(s)).filter(Boolean);
  const reply = document.querySelector("#f-reply");
  const chosenInput = document.querySelector("#kb-article-id");
  let articles = [];
  let chosen = 0;
  let timer = null;
  let lastQuery = "";

  function render() {
    list.innerHTML = "";
    if (!articles.length) {
      list.innerHTML = `<li class="muted">${lastQuery ? "没有匹配的文章" : "输入诉求后显示相关文章"}</li>`;
      return;
    }
    articles.forEach((article, index) => {
      const item = document.createElement("li");
      item.className = "kb-suggestion" + (index === chosen ? " chosen" : "");
      item.dataset.articleId = article.id;
      // question and snippet arrive escaped and highlighted by the server
      item.innerHTML = `<a href="${article.url}" target="_blank" rel="noopener" class="kb-q">${article.question}</a>
        <p class="kb-snippet">${article.snippet}</p>
        <button type="button" class="small" data-insert="${index}">插入答复${index === chosen ? " <kbd>F2</kbd>" : ""}</button>`;
      list.appendChild(item);
    });
  }

  async function refresh() {
    const query = sources.map((s) => s.value.trim()).filter(Boolean).join(" ");
    if (query === lastQuery) return;
    lastQuery = query;
    if (query.length < 2) {
      articles = [];
      render();
      return;
    }
    try {
      const response = await fetch(`${panel.dataset.kbSuggest}?q=${encodeURIComponent(query)}`, { credentials: "same-origin" });
      if (!response.ok || query !== lastQuery) return;
      articles = (await response.json()).articles;
      chosen = 0;
      render();
    } catch (error) {
      // a dropped suggestion request must never disturb the intake
    }
  }

  function insert(index) {
    const article = articles[index];
    if (!article || !reply) return;
    const onSpot = document.querySelector('input[name="handling"][value="on_spot"]');
    if (onSpot && !onSpot.checked) {
      onSpot.checked = true;
      onSpot.dispatchEvent(new Event("change", { bubbles: true }));
    }
    reply.value = reply.value.trim() ? `${reply.value.trim()}\n${article.answer}` : article.answer;
    chosenInput.value = article.id;
    reply.focus();
    panel.dataset.inserted = article.id;
  }

  sources.forEach((source) => source.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(refresh, 250);
  }));
  list.addEventListener("click", (event) => {
    const button = event.target.closest("[data-insert]");
    if (button) insert(Number(button.dataset.insert));
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "F2") {
      event.preventDefault();
      insert(chosen);
    } else if (event.altKey && (event.key === "ArrowDown" || event.key === "ArrowUp") && articles.length) {
      event.preventDefault();
      chosen = (chosen + (event.key === "ArrowDown" ? 1 : articles.length - 1)) % articles.length;
      render();
    }
  });
  render();
})();
