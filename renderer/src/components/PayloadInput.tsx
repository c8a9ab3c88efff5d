import { useId, useMemo, type ReactNode } from 'react';
import type { Payload, PayloadPreview } from '../store/types.ts';
import { formatBytes, isHexPayload, spacedHex } from '../lib/format.ts';

/** A text-or-hex payload editor (the contract's Payload). */
export function PayloadInput(props: {
  label: string;
  value: Payload;
  onChange: (p: Payload) => void;
  rows?: number;
  name?: string;
}): ReactNode {
  const id = useId();
  const bad = props.value.encoding === 'hex' && !isHexPayload(props.value.data);
  return (
    <div className="payload-input">
      <div className="payload-head">
        <label htmlFor={`${id}-data`}>{props.label}</label>
        <div className="seg" role="radiogroup" aria-label={`${props.label} encoding`}>
          {(['text', 'hex'] as const).map((enc) => (
            <label key={enc} className={props.value.encoding === enc ? 'on' : undefined}>
              <input
                type="radio"
                name={`${id}-enc`}
                value={enc}
                checked={props.value.encoding === enc}
                onChange={() => props.onChange({ ...props.value, encoding: enc })}
              />
              {enc === 'text' ? 'Text' : 'Hex'}
            </label>
          ))}
        </div>
      </div>
      <textarea
        id={`${id}-data`}
        name={props.name}
        rows={props.rows ?? 3}
        spellCheck={false}
        value={props.value.data}
        aria-invalid={bad}
        placeholder={props.value.encoding === 'hex' ? 'de ad be ef' : 'hello'}
        onChange={(e) => props.onChange({ ...props.value, data: e.target.value })}
      />
      {bad && <span className="hint danger">Hex needs an even number of digits 0-9, a-f.</span>}
    </div>
  );
}

/** Whether a payload can be sent (hex well-formed). */
export function payloadValid(p: Payload): boolean {
  return p.encoding === 'text' || isHexPayload(p.data);
}

/** Received bytes: text when it is UTF-8, else a hex dump, with the total size. */
export function PreviewView(props: { preview: PayloadPreview; testId?: string }): ReactNode {
  const p = props.preview;
  // Rows are re-sent as a response grows; the previewed bytes stay the same once the preview is full.
  const body = useMemo(() => p.text ?? spacedHex(p.hex), [p.text, p.hex]);
  return (
    <div className="preview" data-testid={props.testId}>
      <div className="hint">
        {formatBytes(p.size)}
        {p.truncated ? ` (first ${formatBytes(p.hex.length / 2)} shown)` : ''}
        {p.text === null && p.size > 0 ? ' · binary' : ''}
      </div>
      {p.size > 0 && <pre className="preview-body">{body}</pre>}
    </div>
  );
}
