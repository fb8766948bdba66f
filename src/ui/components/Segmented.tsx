/** A row of radio buttons (one choice of a few), as the toolbars and panels use it. */
export function Segmented<T extends string>({ value, options, onChange, label, small }: {
  value: T; options: { value: T; label: string; title?: string; disabled?: boolean }[]; onChange: (v: T) => void; label: string; small?: boolean;
}) {
  return (
    <div className={`segmented${small ? ' small' : ''}`} role="radiogroup" aria-label={label}>
      {options.map((o) => (
        <button key={o.value} type="button" role="radio" aria-checked={value === o.value}
          className={value === o.value ? 'on' : ''} title={o.title} disabled={o.disabled} onClick={() => onChange(o.value)}>
          {o.label}
        </button>
      ))}
    </div>
  );
}

