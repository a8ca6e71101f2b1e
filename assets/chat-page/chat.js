// The chat page's script (no dependencies, no build step): a multi-turn chat streamed from this
// server's /v1/chat/completions (SSE), images attached as data: URLs in image_url parts, checked
// first against the server's limits (read from <meta name="tramontane-limits">).
const $ = (id) => document.getElementById(id);
const limits = JSON.parse(document.querySelector('meta[name="tramontane-limits"]').content);
// Images a browser decodes and the server accepts.
const IMAGE_TYPES = new Set(['image/png', 'image/jpeg', 'image/webp', 'image/gif']);

/** The conversation in OpenAI's message shape; an entry is added only once its answer ends. */
let history = [];
/** Images for the next message: { name, url (data: URL), pixels }. */
let pending = [];
/** The answer in flight: its AbortController, or null. */
let inFlight = null;
let modelId = null;

const keyInput = $('api-key');
keyInput.value = sessionStorage.getItem('tramontane-api-key') ?? '';

function headers() {
  const h = { 'content-type': 'application/json' };
  const key = keyInput.value.trim();
  if (key) h.authorization = `Bearer ${key}`;
  return h;
}

function showError(text) {
  $('error').textContent = text;
}

/** An API error's message ({"error": {"message"}}) or the status line. */
async function errorText(res) {
  try {
    const body = await res.json();
    if (body?.error?.message) return `${res.status}: ${body.error.message}`;
  } catch {
    // not JSON: the status says enough
  }
  return `${res.status} ${res.statusText}`;
}

async function loadModel() {
  try {
    const res = await fetch('/v1/models', { headers: headers() });
    if (res.status === 401) {
      $('model').textContent = 'API key needed';
      return;
    }
    if (!res.ok) throw new Error(await errorText(res));
    const body = await res.json();
    modelId = body.data[0]?.id ?? null;
    $('model').textContent = modelId ? `${modelId} · context ${limits.maxModelLen} tokens` : '';
  } catch (e) {
    $('model').textContent = `cannot reach the server: ${e.message}`;
  }
}

function addMessage(role, text, images = []) {
  const div = document.createElement('div');
  div.className = `msg ${role}`;
  const label = document.createElement('span');
  label.className = 'role';
  label.textContent = role;
  const body = document.createElement('span');
  body.className = 'text';
  body.textContent = text;
  div.append(label, body);
  for (const url of images) {
    const img = document.createElement('img');
    img.src = url;
    img.alt = 'attached image';
    div.append(img);
  }
  $('log').append(div);
  div.scrollIntoView({ block: 'end' });
  return body;
}

function readAsDataUrl(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

function imageSize(url) {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => resolve(img.naturalWidth * img.naturalHeight);
    img.onerror = () => reject(new Error('not a readable image'));
    img.src = url;
  });
}

const imagesInHistory = () => history.reduce((n, m) => n + (Array.isArray(m.content) ? m.content.filter((p) => p.type === 'image_url').length : 0), 0);
const pixelsInHistory = () => history.reduce((n, m) => n + (m.pixels ?? 0), 0);

/** Attaches image files to the next message, each checked against the server's limits. */
async function attach(files) {
  showError('');
  for (const file of files) {
    try {
      if (!IMAGE_TYPES.has(file.type)) throw new Error(`${file.type || 'unknown type'} is not an image the server reads (PNG, JPEG, WebP, GIF)`);
      if (imagesInHistory() + pending.length + 1 > limits.imagesPerPrompt) throw new Error(`at most ${limits.imagesPerPrompt} images per conversation (the server's --limit-mm-per-prompt)`);
      // base64 grows the bytes by 4/3; the whole request must stay under the body limit.
      if ((file.size * 4) / 3 > limits.bodyLimit) throw new Error(`${(file.size / 1e6).toFixed(1)} MB is over the server's body limit of ${(limits.bodyLimit / 1e6).toFixed(1)} MB`);
      const url = await readAsDataUrl(file);
      const pixels = await imageSize(url);
      const used = pixelsInHistory() + pending.reduce((n, p) => n + p.pixels, 0);
      if (used + pixels > limits.maxImagePixelsPerRequest) throw new Error(`the images together would be over the server's ${limits.maxImagePixelsPerRequest} pixels per request`);
      pending.push({ name: file.name, url, pixels });
    } catch (e) {
      showError(`${file.name || 'image'}: ${e.message}`);
    }
  }
  renderAttachments();
}

function renderAttachments() {
  const box = $('attachments');
  box.replaceChildren(
    ...pending.map((p, i) => {
      const fig = document.createElement('figure');
      const img = document.createElement('img');
      img.src = p.url;
      img.alt = p.name;
      img.title = p.name;
      const remove = document.createElement('button');
      remove.type = 'button';
      remove.textContent = '×';
      remove.title = 'remove';
      remove.addEventListener('click', () => {
        pending.splice(i, 1);
        renderAttachments();
      });
      fig.append(img, remove);
      return fig;
    }),
  );
}

/** Yields the parsed `data:` payloads of an SSE response body until [DONE]. */
async function* sseEvents(body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = event
        .split('\n')
        .filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(5).trimStart())
        .join('\n');
      if (data === '[DONE]') return;
      if (data) yield JSON.parse(data);
    }
  }
}

function setBusy(busy) {
  $('send').disabled = busy;
  $('stop').disabled = !busy;
}

function showStats(s) {
  const parts = [];
  if (s.ttftMs !== null) parts.push(`time to first token ${Math.round(s.ttftMs)} ms`);
  if (s.tokens > 1 && s.decodeMs > 0) parts.push(`${((s.tokens - 1) / (s.decodeMs / 1000)).toFixed(1)} tokens/s`);
  parts.push(`${s.tokens} tokens`);
  if (s.promptTokens !== null) parts.push(`prompt ${s.promptTokens} tokens`);
  if (s.finish) parts.push(s.finish);
  $('stats').textContent = parts.join(' · ');
}

async function send() {
  const text = $('input').value.trim();
  if (inFlight || (!text && pending.length === 0)) return;
  showError('');
  const temperature = Number($('temperature').value);
  const maxTokens = Number($('max-tokens').value);
  if (!(temperature >= 0 && temperature <= 2)) return showError('temperature must be between 0 and 2');
  if (!(Number.isInteger(maxTokens) && maxTokens >= 1 && maxTokens < limits.maxModelLen)) return showError(`max tokens must be a whole number from 1 to ${limits.maxModelLen - 1}`);
  const content = pending.length === 0 ? text : [...(text ? [{ type: 'text', text }] : []), ...pending.map((p) => ({ type: 'image_url', image_url: { url: p.url } }))];
  const user = { role: 'user', content, pixels: pending.reduce((n, p) => n + p.pixels, 0) };
  const messages = [...history, user].map(({ role, content: c }) => ({ role, content: c }));
  const request = { messages, stream: true, stream_options: { include_usage: true }, temperature, max_tokens: maxTokens };
  if (modelId) request.model = modelId;
  const body = JSON.stringify(request);
  if (body.length > limits.bodyLimit) return showError(`the conversation is ${(body.length / 1e6).toFixed(1)} MB, over the server's body limit of ${(limits.bodyLimit / 1e6).toFixed(1)} MB: start a new chat`);

  addMessage('user', text, pending.map((p) => p.url));
  $('input').value = '';
  pending = [];
  renderAttachments();
  const answer = addMessage('assistant', '');
  const controller = new AbortController();
  inFlight = controller;
  setBusy(true);
  const start = performance.now();
  const stats = { ttftMs: null, decodeMs: 0, tokens: 0, promptTokens: null, finish: '' };
  let firstAt = 0;
  let reply = '';
  try {
    const res = await fetch('/v1/chat/completions', { method: 'POST', headers: headers(), body, signal: controller.signal });
    if (!res.ok) throw new Error(await errorText(res));
    for await (const chunk of sseEvents(res.body)) {
      // Chunks the browser already holds are not shown once Stop is pressed.
      if (controller.signal.aborted) throw new DOMException('stopped', 'AbortError');
      if (chunk.error) throw new Error(chunk.error.message ?? 'the server reported an error');
      const choice = chunk.choices?.[0];
      const delta = choice?.delta?.content;
      if (delta) {
        const now = performance.now();
        if (stats.ttftMs === null) {
          stats.ttftMs = now - start;
          firstAt = now;
        }
        stats.tokens++; // one chunk per token until usage says otherwise
        stats.decodeMs = now - firstAt;
        reply += delta;
        answer.textContent = reply;
        answer.scrollIntoView({ block: 'end' });
      }
      if (choice?.finish_reason) stats.finish = `finished: ${choice.finish_reason}`;
      if (chunk.usage) {
        stats.tokens = chunk.usage.completion_tokens;
        stats.promptTokens = chunk.usage.prompt_tokens;
      }
      showStats(stats);
    }
  } catch (e) {
    if (e.name === 'AbortError') stats.finish = 'stopped';
    else showError(e.message);
    showStats(stats);
  } finally {
    inFlight = null;
    setBusy(false);
  }
  // The turn stays in the history when some answer came (a stopped answer included).
  if (reply) history.push(user, { role: 'assistant', content: reply });
  else answer.parentElement.remove();
}

$('composer').addEventListener('submit', (e) => {
  e.preventDefault();
  void send();
});
$('input').addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    void send();
  }
});
$('stop').addEventListener('click', () => inFlight?.abort());
$('reset').addEventListener('click', () => {
  inFlight?.abort();
  history = [];
  pending = [];
  renderAttachments();
  $('log').replaceChildren();
  $('stats').textContent = '';
  showError('');
});
$('file').addEventListener('change', (e) => {
  void attach([...e.target.files]);
  e.target.value = '';
});
keyInput.addEventListener('change', () => {
  sessionStorage.setItem('tramontane-api-key', keyInput.value.trim());
  void loadModel();
});
$('input').addEventListener('paste', (e) => {
  const files = [...(e.clipboardData?.files ?? [])].filter((f) => f.type.startsWith('image/'));
  if (files.length > 0) {
    e.preventDefault();
    void attach(files);
  }
});
// Drag and drop anywhere on the page; the hint shows while files are over it.
let dragDepth = 0;
document.addEventListener('dragenter', (e) => {
  if (![...(e.dataTransfer?.types ?? [])].includes('Files')) return;
  dragDepth++;
  $('drop-hint').hidden = false;
});
document.addEventListener('dragleave', () => {
  dragDepth = Math.max(0, dragDepth - 1);
  if (dragDepth === 0) $('drop-hint').hidden = true;
});
document.addEventListener('dragover', (e) => e.preventDefault());
document.addEventListener('drop', (e) => {
  e.preventDefault();
  dragDepth = 0;
  $('drop-hint').hidden = true;
  void attach([...(e.dataTransfer?.files ?? [])]);
});

void loadModel();
