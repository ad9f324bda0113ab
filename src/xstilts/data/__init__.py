"""data: example types, readers and loaders.

Importing the package registers the plain-file readers of every format (``formats_plain``), so any
``load_split`` sees them, whichever module was imported first.
"""

from xstilts.data import formats_plain as formats_plain
