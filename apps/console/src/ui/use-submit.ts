import { useState, type FormEvent } from 'react';

/**
 * A form that sends one request: the ledger's problem when it refuses, what was done, and whether
 * the answer is awaited (the submit button waits with it). `send` makes the request and returns
 * the words saying it was done, or nothing; `ready`, when given, is asked first, and a form it
 * finds not ready sends nothing (its own message says why).
 */
export function useSubmit(send: () => Promise<string | void>, ready: () => boolean = () => true) {
  const [problem, setProblem] = useState<unknown>();
  const [done, setDone] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setProblem(undefined);
    setDone('');
    if (!ready()) return;
    setBusy(true);
    try {
      const said = await send();
      if (said !== undefined) setDone(said);
    } catch (failure) {
      setProblem(failure);
    } finally {
      setBusy(false);
    }
  };
  return { problem, done, busy, onSubmit: (event: FormEvent) => void submit(event) };
}

export type Submission = ReturnType<typeof useSubmit>;
