"""Invoice PDFs, rendered by WeasyPrint from ``billing/invoice.html``."""

from django.template.loader import render_to_string

from .models import Invoice


def invoice_render_pdf(invoice: Invoice) -> bytes:
    """The invoice as PDF bytes. Rendered from the frozen invoice row, so it is reproducible."""
    from weasyprint import HTML  # heavy import, only when a PDF is asked for

    html = render_to_string("billing/invoice.html", {"invoice": invoice})
    return HTML(string=html).write_pdf()
