import { stripVTControlCharacters } from 'node:util';

/** C0 controls except \t and \n, DEL, and the C1 controls (U+0080–U+009F; some terminals act on them like ESC). */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/g;
const C1_AND_DEL = /[\u007F-\u009F]/g;

/**
 * Text that came from a model or an agent, made safe for the owner's terminal: escape sequences (colours, cursor
 * moves, clear screen, window titles, OSC 8 links) are removed whole, then every control character left except \n
 * and \t (so a stray ESC or a carriage return cannot repaint or hide what was printed). CRLF becomes \n.
 */
export function terminalText(s: string): string {
  return stripVTControlCharacters(s.replace(/\r\n/g, '\n')).replace(CONTROL, '');
}

/**
 * JSON text for a terminal or a pipe: JSON already escapes C0 controls; DEL and the C1 range are escaped too
 * (`\u009b` is a CSI to some terminals). The value is unchanged for any JSON parser.
 */
export function terminalJson(json: string): string {
  return json.replace(C1_AND_DEL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
