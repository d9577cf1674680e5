import { Link } from '../router.tsx';
import { EmptyState } from '../components/ui.tsx';
import { useDocumentTitle } from '../components/hooks.ts';

export function NotFoundPage() {
  useDocumentTitle('Not found');
  return (
    <div className="page">
      <EmptyState
        title="This page does not exist"
        action={
          <Link to="/" className="btn btn-primary">
            Go to feature flags
          </Link>
        }
      >
        The link may be mistyped, or the page was moved.
      </EmptyState>
    </div>
  );
}
