// The chosen theme before the first paint (a classic script in <head>, not inline: the CSP allows no inline
// script); theme.js keeps it in step afterwards.
try {
  const chosen = localStorage.getItem('inkstream.theme');
  if (chosen) document.documentElement.dataset.theme = chosen;
} catch { /* no storage */ }
