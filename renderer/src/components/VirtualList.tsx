import {
  useCallback,
  useEffect,
  useId,
  useLayoutEffect,
  useRef,
  useState,
  type KeyboardEvent,
  type ReactNode,
} from 'react';

/** Props of VirtualList: fixed-height rows, only the visible window (plus overscan) is rendered. */
export interface VirtualListProps<T> {
  items: readonly T[];
  rowHeight: number;
  renderRow: (item: T, index: number, selected: boolean) => ReactNode;
  rowKey: (item: T, index: number) => string | number;
  selectedIndex?: number;
  onSelect?: (index: number) => void;
  /** Keep the view pinned to the newest row while the user has not scrolled up. */
  follow?: boolean;
  overscan?: number;
  label: string;
  className?: string;
}

/**
 * A small windowed list: a scroll container with a spacer of the full height and the visible rows
 * positioned inside it. Keyboard: arrows / Page keys / Home / End move the selection.
 */
export function VirtualList<T>(props: VirtualListProps<T>): ReactNode {
  const { items, rowHeight, renderRow, rowKey, selectedIndex = -1, onSelect, follow = false } = props;
  const overscan = props.overscan ?? 8;
  const scroller = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(400);
  const pinned = useRef(true);
  const id = useId();

  useLayoutEffect(() => {
    const el = scroller.current;
    if (el == null) return;
    const observer = new ResizeObserver(() => setHeight(el.clientHeight));
    observer.observe(el);
    setHeight(el.clientHeight);
    return () => observer.disconnect();
  }, []);

  // Follow the tail: when new rows arrive and the user is at the bottom, stay at the bottom.
  useEffect(() => {
    const el = scroller.current;
    if (!follow || el == null || !pinned.current) return;
    el.scrollTop = el.scrollHeight;
  }, [items.length, follow]);

  const onScroll = useCallback(() => {
    const el = scroller.current;
    if (el == null) return;
    pinned.current = el.scrollTop + el.clientHeight >= el.scrollHeight - rowHeight;
    setScrollTop(el.scrollTop);
  }, [rowHeight]);

  const scrollIntoView = useCallback(
    (index: number) => {
      const el = scroller.current;
      if (el == null) return;
      const top = index * rowHeight;
      if (top < el.scrollTop) el.scrollTop = top;
      else if (top + rowHeight > el.scrollTop + el.clientHeight)
        el.scrollTop = top + rowHeight - el.clientHeight;
    },
    [rowHeight],
  );

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    if (onSelect == null || items.length === 0) return;
    const page = Math.max(1, Math.floor(height / rowHeight) - 1);
    const moves: Record<string, number> = {
      ArrowDown: selectedIndex + 1,
      ArrowUp: selectedIndex - 1,
      PageDown: selectedIndex + page,
      PageUp: selectedIndex - page,
      Home: 0,
      End: items.length - 1,
    };
    const next = moves[e.key];
    if (next === undefined) return;
    e.preventDefault();
    const clamped = Math.min(items.length - 1, Math.max(0, next));
    onSelect(clamped);
    scrollIntoView(clamped);
  };

  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const last = Math.min(items.length, Math.ceil((scrollTop + height) / rowHeight) + overscan);
  const rows: ReactNode[] = [];
  for (let i = first; i < last; i++) {
    const item = items[i] as T;
    rows.push(
      <div
        key={rowKey(item, i)}
        role="option"
        id={`${id}-${i}`}
        aria-selected={i === selectedIndex}
        className={i === selectedIndex ? 'vrow selected' : 'vrow'}
        // React applies `style` through the CSSOM, which a strict CSP allows (no style attribute).
        style={{ transform: `translateY(${i * rowHeight}px)`, height: rowHeight }}
        onClick={() => onSelect?.(i)}
      >
        {renderRow(item, i, i === selectedIndex)}
      </div>,
    );
  }

  return (
    <div
      ref={scroller}
      className={`vlist ${props.className ?? ''}`}
      role="listbox"
      aria-activedescendant={
        selectedIndex >= first && selectedIndex < last ? `${id}-${selectedIndex}` : undefined
      }
      aria-label={props.label}
      tabIndex={0}
      onScroll={onScroll}
      onKeyDown={onKeyDown}
    >
      <div className="vlist-spacer" style={{ height: items.length * rowHeight }}>
        {rows}
      </div>
    </div>
  );
}
