"""The seed's forms laid out as files: xlsx (openpyxl), docx (docxtpl templates), PDF (LibreOffice), HTML."""
