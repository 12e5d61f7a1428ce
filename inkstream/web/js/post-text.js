// The words of a post as plain text, no DOM: the copy (titles / body / tags) for the clipboard and post.txt, and
// an outline being written (outline_delta) split into its pages for the live view. Unit-tested under Node.

const TYPE_OF_TAG = { '封面': 'cover', '内容': 'content', '总结': 'summary', cover: 'cover', content: 'content',
  summary: 'summary' };

/** A copy object from the server (task view or `copy` event) in one safe shape; null when there is none. */
export function normalizeCopy(raw) {
  if (!raw || typeof raw !== 'object') return null;
  const strings = (v) => (Array.isArray(v) ? v.filter((x) => typeof x === 'string' && x.trim()).map((x) => x.trim()) : []);
  const copy = { titles: strings(raw.titles), body: typeof raw.body === 'string' ? raw.body.trim() : '',
    tags: strings(raw.tags).map((tag) => tag.replace(/^#+/, '')) };
  return copy.titles.length || copy.body || copy.tags.length ? copy : null;
}

/** Tags as a creator pastes them: "#露营 #装备清单". */
export function tagsLine(tags) {
  return (tags || []).map((tag) => `#${String(tag).replace(/^#+/, '')}`).join(' ');
}

/** The whole copy as one text (the "copy all" button and post.txt in the zip). */
export function postText(copy, { titlesLabel = '标题备选', bodyLabel = '正文', tagsLabel = '话题标签' } = {}) {
  const c = normalizeCopy(copy);
  if (!c) return '';
  const parts = [];
  if (c.titles.length) parts.push(`${titlesLabel}\n${c.titles.map((title, i) => `${i + 1}. ${title}`).join('\n')}`);
  if (c.body) parts.push(`${bodyLabel}\n${c.body}`);
  if (c.tags.length) parts.push(`${tagsLabel}\n${tagsLine(c.tags)}`);
  return `${parts.join('\n\n')}\n`;
}

/**
 * An outline's text so far, split into pages: "[封面]\n…\n<page>\n[内容]\n…". The last page may be half
 * written; a page tag cut in the middle ("<pa") is not shown as text.
 */
export function splitOutline(text) {
  const clean = String(text || '').replace(/<(p(a(g(e)?)?)?)?$/, '');
  return clean.split(/<page>/i).map((chunk) => chunk.replace(/^\s*\n/, '').trimEnd())
    .filter((chunk, i, all) => chunk.trim() || i === all.length - 1)
    .map((chunk) => {
      const match = /^\s*\[([^\]\n]{1,10})\]\s*\n?/.exec(chunk);
      const type = match ? TYPE_OF_TAG[match[1].trim().toLowerCase()] || TYPE_OF_TAG[match[1].trim()] : null;
      return { type: type || 'content', content: match && type ? chunk.slice(match[0].length) : chunk };
    })
    .filter((page) => page.content.trim());
}
