#!/usr/bin/python3
"""
The original image function, re-created as the benchmark's baseline: a WSGI app on wsgiref's single-threaded
server (one request at a time, as one FC instance of the original served), Debian's python3-opencv for
facedetect (LBP frontal-face cascade, detectMultiScale(gray, 1.03, 5)) and python3-wand for show and rotate,
every result a PNG base64-encoded into an HTML template.

It is meant to be fair: no deliberate slowdowns. It encodes the facedetect PNG straight from OpenCV, where the
original wrote /tmp/dst.png and re-encoded it through Wand, so it is, if anything, faster than the original.
The faces found go in an X-Faces header (JSON [[x, y, w, h], ...]) so the bench can compare detections.

Run with Debian's interpreter, which sees the python3-* packages: /usr/bin/python3 app.py --root DIR --port P
"""
import argparse
import base64
import json
import os
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, make_server

import cv2
from wand.image import Image

CASCADE = cv2.CascadeClassifier('/usr/share/opencv4/lbpcascades/lbpcascade_frontalface.xml')
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'index.html')) as template_file:
    TEMPLATE = template_file.read()


def facedetect(filename):
    img = cv2.imread(filename)
    gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    faces = CASCADE.detectMultiScale(gray, 1.03, 5)
    for (x, y, w, h) in faces:
        cv2.rectangle(img, (x, y), (x + w, y + h), (0, 0, 255), 1)
    _, png = cv2.imencode('.png', img)
    return png.tobytes(), [[int(v) for v in face] for face in faces]


def wand_png(filename, angle=None):
    with Image(filename=filename) as img:
        if angle is not None:
            img.rotate(angle)
        return img.make_blob(format='png')


def make_app(root):
    root = os.path.realpath(root)

    def app(environ, start_response):
        # Unlike the original, refuse paths outside the root: this server must not become a file reader.
        filename = os.path.realpath(root + environ.get('PATH_INFO', '/'))
        query = {k: v[0] for k, v in parse_qs(environ.get('QUERY_STRING', '')).items()}
        action = query.get('action', 'show')
        if not filename.startswith(root + os.sep) or not os.path.isfile(filename):
            start_response('404 Not Found', [('Content-Type', 'text/plain')])
            return [b'not found']
        headers = [('Content-Type', 'text/html')]
        if action == 'facedetect':
            png, faces = facedetect(filename)
            headers.append(('X-Faces', json.dumps(faces)))
        elif action == 'rotate':
            png = wand_png(filename, float(query.get('angle', '0')))
        else:
            png = wand_png(filename)
        start_response('200 OK', headers)
        return [TEMPLATE.replace('{fc-py}', base64.b64encode(png).decode('ascii')).encode('utf-8')]

    return app


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


def main():
    parser = argparse.ArgumentParser(description='the original image function, as a benchmark baseline')
    parser.add_argument('--root', required=True)
    parser.add_argument('--port', type=int, required=True)
    args = parser.parse_args()
    server = make_server('127.0.0.1', args.port, make_app(args.root), handler_class=QuietHandler)
    server.serve_forever()


if __name__ == '__main__':
    main()
