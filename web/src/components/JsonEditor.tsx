// A JSON text area that validates as you type and can reformat its content.
import { useId } from 'react';

/** Null when `text` is empty or valid JSON, else where and why it is not. */
export function jsonProblem(text: string): string | null {
  if (!text.trim()) return null;
  try {
    JSON.parse(text);
    return null;
  } catch (error) {
    // V8 echoes the whole input in some messages ("…, "<text>" is not valid JSON"): keep the reason.
    const message = (error as Error).message.replace(/, ".*" is not valid JSON$/s, '').replace(/ \(line \d+ column \d+\)$/, '');
    const position = /position (\d+)/.exec(message)?.[1];
    if (position === undefined) return `Invalid JSON: ${message.replace(/^JSON\.parse: /, '')}`;
    const before = text.slice(0, Number(position));
    const line = before.split('\n').length;
    const column = Number(position) - before.lastIndexOf('\n');
    return `Invalid JSON at line ${line}, column ${column}: ${message.replace(/ in JSON at position \d+.*$/, '').replace(/^JSON\.parse: /, '')}`;
  }
}

export function JsonEditor({
  label,
  value,
  onChange,
  error,
  placeholder = '{"key": "value"}',
}: {
  label: string;
  value: string;
  onChange: (text: string) => void;
  error?: string | null;
  placeholder?: string;
}) {
  const id = useId();
  const problem = jsonProblem(value);
  const shown = problem ?? error ?? null;
  const format = () => {
    if (!problem && value.trim()) onChange(JSON.stringify(JSON.parse(value), null, 2));
  };
  return (
    <div className={`field json-editor${shown ? ' field-invalid' : ''}`}>
      <div className="json-editor-head">
        <label htmlFor={id}>{label}</label>
        <span className={`json-state ${problem ? 'is-bad' : value.trim() ? 'is-good' : ''}`} aria-hidden="true">
          {problem ? 'Invalid JSON' : value.trim() ? 'Valid JSON' : 'No payload'}
        </span>
        <button type="button" className="link-button" onClick={format} disabled={Boolean(problem) || !value.trim()}>
          Format
        </button>
      </div>
      <textarea
        id={id}
        className="mono"
        spellCheck={false}
        rows={Math.min(12, Math.max(3, value.split('\n').length + 1))}
        value={value}
        placeholder={placeholder}
        aria-invalid={shown ? true : undefined}
        aria-describedby={shown ? `${id}-error` : undefined}
        onChange={(e) => onChange(e.target.value)}
      />
      {shown ? (
        <p className="error-text" id={`${id}-error`} role="alert">
          {shown}
        </p>
      ) : null}
    </div>
  );
}
