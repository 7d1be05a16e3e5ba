import { useEffect, useState } from 'react';
import { useApi } from '../api/context';
import { answer } from '../api/problem';

export interface Agency {
  readonly agencyId: string;
  readonly name: string;
  readonly kind: string;
  readonly country: string;
}

/** The registry's agencies, to show names a person knows instead of ids; ids until they load. */
export function useAgencies(): { readonly list: readonly Agency[]; readonly name: (id: string) => string } {
  const api = useApi();
  const [list, setList] = useState<readonly Agency[]>([]);
  useEffect(() => {
    let current = true;
    answer<Agency[]>(api.GET('/agencies')).then(
      (agencies) => current && Array.isArray(agencies) && setList(agencies),
      // Names are a convenience: without them the ids still say which agency.
      () => undefined,
    );
    return () => {
      current = false;
    };
  }, [api]);
  return { list, name: (id) => list.find((a) => a.agencyId === id)?.name ?? id };
}
