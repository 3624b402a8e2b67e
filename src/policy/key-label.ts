/**
 * The one rule for an API key's label, wherever a key is made (the account
 * form, zot's `POST /zot/auth/apikey`, `zot-gate apikey create --label`):
 * 1 to 100 characters once trimmed, and none that a terminal or a page would
 * act on rather than show. Labels are printed by `apikey list` to an
 * operator's terminal, where ESC starts a control sequence, C1's CSI (U+009B)
 * does the same in some terminals, a newline or tab draws a fake row, and
 * bidi overrides reorder what a row appears to say.
 */

export const MAX_LABEL_LENGTH = 100;

/**
 * C0 and C1 controls and DEL (Unicode's Cc), the line and paragraph
 * separators, and the bidi embeddings, overrides and isolates.
 */
export const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;

export type LabelCheck =
  | { readonly ok: true; readonly label: string }
  | { readonly ok: false; readonly reason: 'label-invalid'; readonly problem: string };

/** The label to store (trimmed), or the problem in words each caller frames. */
export function checkKeyLabel(text: string): LabelCheck {
  const label = text.trim();
  if (CONTROL_CHARACTERS.test(label)) return { ok: false, reason: 'label-invalid', problem: 'control characters are not allowed' };
  if (label.length === 0 || label.length > MAX_LABEL_LENGTH) {
    return { ok: false, reason: 'label-invalid', problem: `give the key a name of 1 to ${MAX_LABEL_LENGTH} characters` };
  }
  return { ok: true, label };
}
