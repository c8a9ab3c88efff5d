/** Asset imports resolved by Vite to URLs. */
declare module '*.svg' {
  const url: string;
  export default url;
}
declare module '*.css';
