// Typed access to the page's elements. The markup and this script ship as one build, so an id
// that is missing or names the wrong kind of element is a bug: it fails here, by name.
// Server values only ever reach the page as text (textContent, option values), never as HTML.
import { formatTime } from './i18n.js';

export function element<T extends HTMLElement>(id: string, type: new () => T): T {
  const node = document.getElementById(id);
  if (!(node instanceof type)) throw new Error(`#${id} is missing or not a ${type.name}`);
  return node;
}

export const byId = (id: string): HTMLElement => element(id, HTMLElement);
export const input = (id: string): HTMLInputElement => element(id, HTMLInputElement);
export const select = (id: string): HTMLSelectElement => element(id, HTMLSelectElement);
export const button = (id: string): HTMLButtonElement => element(id, HTMLButtonElement);
export const form = (id: string): HTMLFormElement => element(id, HTMLFormElement);
export const textArea = (id: string): HTMLTextAreaElement => element(id, HTMLTextAreaElement);

/** The trimmed value of a text field or select. */
export function value(id: string): string {
  const node = document.getElementById(id);
  if (
    node instanceof HTMLInputElement ||
    node instanceof HTMLSelectElement ||
    node instanceof HTMLTextAreaElement
  )
    return node.value.trim();
  throw new Error(`#${id} is missing or not a form field`);
}

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  text?: string | number | null,
  className?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

const radios = (name: string): HTMLInputElement[] =>
  [...document.querySelectorAll(`input[name="${name}"]`)].filter(
    (node): node is HTMLInputElement => node instanceof HTMLInputElement,
  );

/** The value of the checked radio button of a group, or '' when none is checked. */
export const radio = (name: string): string => radios(name).find((node) => node.checked)?.value ?? '';

export function setRadio(name: string, checked: string): void {
  for (const node of radios(name)) node.checked = node.value === checked;
}

export type StatusKind = 'ok' | 'bad' | '';

/** Writes a status line (role="status", so screen readers announce it). */
export function status(id: string, text?: string, kind: StatusKind = ''): void {
  const node = byId(id);
  node.textContent = text || '';
  node.className = `status${kind ? ` ${kind}` : ''}`;
}

/** A <time> in the page's language and the viewer's time zone; its machine-readable value the server's ISO time. */
export function when(iso: string): HTMLTimeElement {
  const date = new Date(iso);
  const node = el('time', Number.isNaN(date.getTime()) ? iso : formatTime(date));
  node.dateTime = iso;
  return node;
}

/** An ISO 8601 UTC time inside a server's sentence (a retry's next attempt, a fold's window). */
const ISO_TIME = /(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?Z)/;

/** A server's sentence as text, with the ISO times in it shown as when() shows them. */
export function withLocalTimes(text: string): DocumentFragment {
  const fragment = document.createDocumentFragment();
  for (const part of text.split(ISO_TIME)) {
    if (!part) continue;
    fragment.append(ISO_TIME.test(part) && !Number.isNaN(Date.parse(part)) ? when(part) : part);
  }
  return fragment;
}

/** A table cell that names its column (data-label): a narrow screen shows each row as a card. */
export function labelledCell(label: string, ...content: Array<Node | string>): HTMLTableCellElement {
  const cell = el('td');
  cell.dataset.label = label;
  cell.append(...content);
  return cell;
}

/** A <button type=button> with a text. */
export function actionButton(text: string, className?: string): HTMLButtonElement {
  const node = el('button', text, className);
  node.type = 'button';
  return node;
}

export const isRecord = (data: unknown): data is Record<string, unknown> =>
  typeof data === 'object' && data !== null;

export const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));
