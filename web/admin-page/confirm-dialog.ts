// One modal question at a time (<dialog>, so focus stays inside and Escape cancels): discard
// unsaved edits, delete a configuration, restore a version. Resolves true only for the
// confirming button.
import { button, byId, element } from './dom.js';

export interface Question {
  title: string;
  message: string;
  confirm: string;
  /** The confirming button looks dangerous (a delete, a discard). */
  danger?: boolean;
}

export function ask(question: Question): Promise<boolean> {
  const dialog = element('confirm-dialog', HTMLDialogElement);
  const ok = button('confirm-ok');
  byId('confirm-title').textContent = question.title;
  byId('confirm-message').textContent = question.message;
  ok.textContent = question.confirm;
  ok.className = question.danger ? 'danger' : 'primary';
  dialog.returnValue = '';
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
    dialog.showModal();
    button('confirm-cancel').focus();
  });
}
