/** The state of the link to main/ the window shows (a banner while not 'open'). */
export type LinkState = 'connecting' | 'open' | 'closed';
