import { useId, useState, type FormEvent } from 'react';

/** Asks for the bearer token when the daemon answered 401 (it has a token_file, as it must beyond loopback). */
export function TokenPrompt({ onSave }: { onSave: (token: string) => void }) {
  const [value, setValue] = useState('');
  const id = useId();
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    if (value.trim()) onSave(value.trim());
  };
  return (
    <section className="panel token-prompt" role="alert" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Access token needed</h2>
      <p>
        This alter0 requires an access token: paste the one in its <code>token_file</code>. The console keeps it for
        this browser tab only.
      </p>
      <form className="inline-form" onSubmit={submit}>
        <label htmlFor={id}>Access token</label>
        <input id={id} type="password" autoComplete="off" value={value} onChange={(e) => setValue(e.target.value)} />
        <button type="submit" className="btn primary" disabled={value.trim() === ''}>
          Use token
        </button>
      </form>
    </section>
  );
}
