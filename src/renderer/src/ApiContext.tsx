// The API is injected once at the root (main.tsx) and read by any component through useApi().
import { createContext, useContext } from 'react';
import type { CordaApi } from '../../shared/api';

export const ApiContext = createContext<CordaApi | null>(null);

export function useApi(): CordaApi {
  const api = useContext(ApiContext);
  if (!api) throw new Error('useApi() was called outside <ApiContext.Provider>.');
  return api;
}

/** A readable message for anything an API call can reject with. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'string') return error;
  return 'Something went wrong, and the error carried no message.';
}
