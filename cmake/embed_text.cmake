# Turns one text file (a style sheet, a template) into a C source defining
#   const char NAME[];  (the text, NUL-terminated)
# so that what a program serves is fixed at build time.
#   cmake -DIN=file.css -DOUT=file.c -DNAME=symbol -P embed_text.cmake
file(READ ${IN} text)
string(REPLACE "\\" "\\\\" text "${text}")
string(REPLACE "\"" "\\\"" text "${text}")
string(REPLACE "\n" "\\n\"\n    \"" text "${text}")
file(WRITE ${OUT}.tmp "/* Generated from ${IN} at build time. Do not edit. */\nconst char ${NAME}[] =\n    \"${text}\";\n")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
