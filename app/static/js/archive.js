// 报表归档: while a file is being built, the list refreshes itself to show its progress.
(function () {
  const table = document.getElementById("archive");
  if (table && table.dataset.poll === "1") setTimeout(() => location.reload(), 2000);
})();
