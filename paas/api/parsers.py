import re

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser as DRFJSONParser

# JSON may spell a lone UTF-16 surrogate ("\ud800"); it is no Unicode text, and it would crash
# whatever encodes it later (the response renderer echoing it in an error, a hash, the database).
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _has_lone_surrogate(data) -> bool:
    pending = [data]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if _LONE_SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


class JSONParser(DRFJSONParser):
    """DRF's parser, plus: JSON nested deeper than the recursion limit, or holding a lone
    surrogate, is a 400 instead of a 500 further down."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the document is nested too deeply.") from None
        if _has_lone_surrogate(data):
            raise ParseError("JSON parse error - the document holds a lone surrogate, which is not valid Unicode.")
        return data
