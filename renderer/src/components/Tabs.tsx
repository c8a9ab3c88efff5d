import { useRef, type KeyboardEvent, type ReactNode } from 'react';

/** One tab of a TabList. */
export interface TabItem<K extends string> {
  key: K;
  label: ReactNode;
  /** Extra element after the label (e.g. a close button), outside the tab's button. */
  extra?: ReactNode;
  title?: string;
}

/** Props of TabList. */
export interface TabListProps<K extends string> {
  items: readonly TabItem<K>[];
  active: K;
  onSelect: (key: K) => void;
  label: string;
  idPrefix: string;
  className?: string;
}

/** An accessible tab list (WAI-ARIA tabs: roving tabindex, arrows/Home/End move and select). */
export function TabList<K extends string>(props: TabListProps<K>): ReactNode {
  const { items, active, onSelect, label, idPrefix } = props;
  const refs = useRef(new Map<string, HTMLButtonElement>());

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    const idx = items.findIndex((t) => t.key === active);
    let next = -1;
    if (e.key === 'ArrowRight') next = (idx + 1) % items.length;
    else if (e.key === 'ArrowLeft') next = (idx - 1 + items.length) % items.length;
    else if (e.key === 'Home') next = 0;
    else if (e.key === 'End') next = items.length - 1;
    if (next < 0 || !(e.target instanceof HTMLButtonElement) || e.target.getAttribute('role') !== 'tab')
      return;
    e.preventDefault();
    const key = items[next].key;
    onSelect(key);
    refs.current.get(key)?.focus();
  };

  return (
    <div
      className={`tablist ${props.className ?? ''}`}
      role="tablist"
      aria-label={label}
      onKeyDown={onKeyDown}
    >
      {items.map((t) => (
        <div key={t.key} className={t.key === active ? 'tab active' : 'tab'}>
          <button
            ref={(el) => {
              if (el != null) refs.current.set(t.key, el);
              else refs.current.delete(t.key);
            }}
            type="button"
            role="tab"
            id={`${idPrefix}-tab-${t.key}`}
            aria-selected={t.key === active}
            aria-controls={`${idPrefix}-panel`}
            tabIndex={t.key === active ? 0 : -1}
            title={t.title}
            onClick={() => onSelect(t.key)}
          >
            {t.label}
          </button>
          {t.extra}
        </div>
      ))}
    </div>
  );
}

/** The panel a TabList controls. */
export function TabPanel(props: {
  idPrefix: string;
  activeKey: string;
  children: ReactNode;
  className?: string;
}) {
  return (
    <div
      className={props.className}
      role="tabpanel"
      id={`${props.idPrefix}-panel`}
      aria-labelledby={`${props.idPrefix}-tab-${props.activeKey}`}
      tabIndex={-1}
    >
      {props.children}
    </div>
  );
}
